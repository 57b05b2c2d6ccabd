// Confirmation for destructive POST forms: <form data-confirm="...">.
document.addEventListener("submit", (event) => {
  const question = event.target.dataset.confirm;
  if (question && !window.confirm(question)) event.preventDefault();
});

// The menu, opened from the keyboard, puts focus on its current entry (or its first): Bootstrap focuses the
// panel itself, which shows no focus ring.
document.addEventListener("shown.bs.offcanvas", (event) => {
  const entry = event.target.querySelector(".list-group-item.active a, .list-group-item a");
  if (entry && document.activeElement === event.target) entry.focus();
});

// A free time offered by the conflict warning fills the form's start and end times (nothing is saved yet).
document.addEventListener("click", (event) => {
  const slot = event.target.closest("[data-slot-start]");
  if (!slot) return;
  document.getElementById("start_time").value = slot.dataset.slotStart;
  document.getElementById("end_time").value = slot.dataset.slotEnd;
  document.querySelector("#item-form button[type=submit]").focus();
});
