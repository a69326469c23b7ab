// zhibu demo's first start (bot/demo_start.py): while the sample history is generated, the chat
// page and the dashboard say how far it is. Outside a generating demo /demo/progress answers 404
// (or "finished" at once) and the line stays hidden.
(function () {
  const line = document.getElementById("demo-progress");
  if (!line) return;
  let seenRunning = false;
  async function poll() {
    let status;
    try {
      const response = await fetch("/demo/progress", { cache: "no-store" });
      if (!response.ok) return;
      status = await response.json();
    } catch (error) {
      setTimeout(poll, 2000);  // the demo restarting: ask again
      return;
    }
    if (!status.finished) {
      seenRunning = true;
      line.textContent = status.text;
      line.hidden = false;
      setTimeout(poll, 700);
      return;
    }
    if (seenRunning || status.failed) {  // it finished while this page was open: say so once
      line.textContent = status.text;
      line.hidden = false;
      line.dataset.finished = "1";
    }
  }
  poll();
})();
