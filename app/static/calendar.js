// Calendar page: a Google event opens a small detail view (title, time, place, text, link to Google).
(function () {
  const dialog = document.getElementById("google-event-dialog");
  if (!dialog) return;
  const field = (id) => document.getElementById(id);
  dialog.addEventListener("show.bs.modal", (event) => {
    const entry = event.relatedTarget;
    if (!entry) return;
    field("google-event-title").textContent = entry.dataset.summary || "(No title)";
    field("google-event-when").textContent = entry.dataset.when || "";
    field("google-event-location").textContent = entry.dataset.location || "";
    field("google-event-description").textContent = entry.dataset.description || "";
    const open = field("google-event-open");
    open.classList.toggle("d-none", !entry.dataset.link);
    open.href = entry.dataset.link || "#";
  });
})();
