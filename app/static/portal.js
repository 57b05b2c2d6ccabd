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
