// Integrations page: live progress of a running sync (polled from the run's JSON status, no reload),
// the matching row of "Recent synchronizations", and the new-calendar name field.
(function () {
  const box = document.getElementById("sync-progress");
  if (!box) return;
  const text = document.getElementById("sync-progress-text");
  const bar = box.querySelector(".progress-bar");
  const announce = document.getElementById("sync-announce");  // a polite live region
  let quarterSaid = Math.floor((Number(box.dataset.percent) || 0) / 25);
  function say(words) { announce.textContent = words; }
  const row = document.querySelector(`#sync-history tr[data-run-id="${box.dataset.runId}"]`);
  function show(percent) {
    bar.style.width = percent + "%";  // set from script: the page carries no inline styles
    bar.textContent = percent + " %";
    bar.parentElement.setAttribute("aria-valuenow", percent);
  }
  show(Number(box.dataset.percent) || 0);
  async function poll() {
    let run;
    try {
      const response = await fetch(box.dataset.statusUrl, { headers: { Accept: "application/json" } });
      if (!response.ok) {
        // Our error handlers answer the poller in JSON with a plain sentence: show it, and keep trying.
        const problem = await response.json().catch(() => null);
        if (problem && problem.error) text.textContent = problem.error;
        return setTimeout(poll, 2000);
      }
      run = await response.json();
    } catch (error) {
      return setTimeout(poll, 2000);
    }
    show(run.percent);
    if (row) {
      row.querySelector(".run-status").textContent = run.status_label;
      row.querySelector(".run-counts").textContent = run.counts_text;
    }
    if (!run.finished) {
      text.textContent = run.total ? `${run.kind_label}: ${run.done} of ${run.total}` : `${run.kind_label}: starting…`;
      if (Math.floor(run.percent / 25) > quarterSaid) {
        quarterSaid = Math.floor(run.percent / 25);
        say(`${run.kind_label}: ${run.percent} percent, ${run.done} of ${run.total}`);
      }
      return setTimeout(poll, 500);
    }
    text.textContent = run.message;
    say(run.message);
    bar.classList.remove("progress-bar-animated", "progress-bar-striped");
    bar.classList.add(run.complete ? "bg-success" : run.status === "succeeded" ? "bg-warning" : "bg-danger");
    box.id = "sync-finished";
    box.dataset.status = run.status;
    const card = box.closest(".integration-card");  // what the card holds now, with no reload
    if (run.card_counts) {  // not when the connection itself is gone (a removal): the page reloads then
      card.querySelectorAll("[data-card-counts]").forEach((line) => { line.textContent = run.card_counts; });
      card.querySelectorAll("[data-pushed-events]").forEach((count) => { count.textContent = run.pushed_events; });
    }
    // The actions that waited for a bulk run are back.
    card.querySelectorAll("[data-actions]").forEach((actions) => actions.classList.remove("d-none"));
    card.querySelectorAll("[data-actions-wait]").forEach((words) => words.classList.add("d-none"));
    if (box.dataset.reloadWhenDone === "yes") setTimeout(() => window.location.reload(), 1500);
  }
  poll();
})();

(function () {
  document.querySelectorAll("select[data-new-calendar]").forEach((select) => {
    const name = select.form.querySelector(".new-calendar-name");
    if (!name) return;
    const reflect = () => name.classList.toggle("d-none", select.value !== select.dataset.newCalendar);
    select.addEventListener("change", reflect);
    reflect();
  });
})();

// A Delete dialog, once open, puts focus on its least destructive control (Cancel), where the focus ring shows:
// Bootstrap leaves it on the dialog box itself, which shows none. (Not the choice: Enter on a radio submits.)
(function () {
  document.querySelectorAll(".modal[id^='delete-dialog-']").forEach((dialog) => {
    dialog.addEventListener("shown.bs.modal", () => {
      const cancel = dialog.querySelector(".modal-footer [data-bs-dismiss='modal']");
      if (cancel) cancel.focus();
    });
  });
})();
