// fibresim dashboard: keep the page live by polling small HTML fragments, nothing more.
// Polling, not an event stream: a stream would hold a server thread per open tab.
"use strict";
(function () {
  const interval = Number(document.body.dataset.pollMs || 2000);
  let busy = false;

  async function refresh(region) {
    // Never swap what the user is working in (a focused button or field would be lost).
    if (region.contains(document.activeElement) && document.activeElement !== document.body) return;
    try {
      const answer = await fetch(region.dataset.poll, { credentials: "same-origin", cache: "no-store" });
      if (answer.status === 401) { window.location.reload(); return; }
      if (!answer.ok) return;
      const html = await answer.text();
      if (html !== region.dataset.last) {
        region.innerHTML = html;
        region.dataset.last = html;
      }
    } catch (error) {
      // The simulator may be restarting: the next tick tries again.
    }
  }

  async function tick() {
    if (document.hidden || busy) return;
    busy = true;
    try {
      await Promise.all(Array.from(document.querySelectorAll("[data-poll]"), refresh));
    } finally {
      busy = false;
    }
  }

  window.setInterval(tick, interval);
  document.addEventListener("submit", function (event) {
    const question = event.target.dataset.confirm;
    if (question && !window.confirm(question)) event.preventDefault();
  });
})();
