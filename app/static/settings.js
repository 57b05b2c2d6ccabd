// Company Settings: a group switch ("Staff Members", "Contacts") sets all of its roles at once.
// The server only reads the per-role switches, so the page works the same without this script.
document.querySelectorAll("[data-group-switch]").forEach((group) => {
  const members = Array.from(document.querySelectorAll(
    `[data-group-member="${group.dataset.groupSwitch}"] input[type=checkbox]`));
  const reflect = () => {
    const on = members.filter((m) => m.checked).length;
    group.checked = on === members.length;
    group.indeterminate = on > 0 && on < members.length;
  };
  group.disabled = false;
  group.addEventListener("change", () => {
    members.forEach((m) => { m.checked = group.checked; });
    reflect();
  });
  members.forEach((m) => m.addEventListener("change", reflect));
  reflect();
});
