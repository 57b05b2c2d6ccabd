// Live progress of a running sync, polled from the run's JSON status (no page reload).
(function () {
  const box = document.getElementById("sync-progress");
  if (!box) return;
  const text = document.getElementById("sync-progress-text");
  const bar = box.querySelector(".progress-bar");
  bar.style.width = bar.dataset.percent + "%"; // set here: the CSP allows no style attribute in the page
  async function poll() {
    const response = await fetch(box.dataset.statusUrl, { headers: { Accept: "application/json" } })
      .catch(() => null); // the server restarting: try again
    if (!response) return setTimeout(poll, 2000);
    if (!response.ok) {
      // Our error handlers answer the poller in JSON with a plain sentence: show it, and keep trying.
      const problem = await response.json().catch(() => null);
      if (problem && problem.error) text.textContent = problem.error;
      return setTimeout(poll, 2000);
    }
    const run = await response.json();
    bar.style.width = run.percent + "%";
    bar.textContent = run.percent + " %";
    bar.parentElement.setAttribute("aria-valuenow", run.percent);
    text.textContent = run.finished ? run.message : `Synchronization in progress… ${run.done}/${run.total}`;
    if (!run.finished) return setTimeout(poll, 500);
    bar.classList.remove("progress-bar-animated", "progress-bar-striped");
    bar.classList.add(run.status === "succeeded" ? "bg-success" : "bg-danger");
    box.id = "sync-finished";
    box.dataset.status = run.status;
  }
  poll();
})();
