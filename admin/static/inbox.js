// The team inbox, live: listens to /admin/inbox/events (Server-Sent Events) and, when a
// ticket of this account's scope changes, fetches this page again and swaps the parts
// marked data-live (the list and its counts; on a ticket, its state and buttons). What
// the user is typing (the answer box) is never replaced. Works without it: reload.
"use strict";
(function () {
  const root = document.getElementById("inbox");
  if (!root || !window.EventSource) return;
  const note = document.getElementById("live-state");
  let busy = false, again = false;
  async function refresh() {
    if (busy) { again = true; return; }
    busy = true;
    try {
      const response = await fetch(location.href, { credentials: "same-origin", headers: { "accept": "text/html" } });
      if (!response.ok) return;
      const doc = new DOMParser().parseFromString(await response.text(), "text/html");
      for (const old of document.querySelectorAll("[data-live]")) {
        const fresh = old.id && doc.getElementById(old.id);
        if (fresh) old.replaceWith(fresh);
      }
      if (root.dataset.ticket && !doc.getElementById("answer-box")) {
        const box = document.getElementById("answer-box");  // answered or handled by someone else
        if (box) box.remove();
      }
      document.body.dataset.liveUpdates = String(Number(document.body.dataset.liveUpdates || 0) + 1);
    } finally {
      busy = false;
      if (again) { again = false; refresh(); }
    }
  }
  const source = new EventSource(root.dataset.events);
  let hellos = 0;
  source.addEventListener("hello", () => {
    document.body.dataset.live = "on";
    if (hellos++ > 0) refresh();  // a reconnection: something may have changed in between
  });
  source.addEventListener("tickets", (event) => {
    const changed = JSON.parse(event.data);
    const mine = root.dataset.ticket;
    if (!mine || changed.some((t) => String(t.id) === mine)) refresh();
  });
  source.addEventListener("bye", () => source.close());
  source.onerror = () => { if (note) note.textContent = "Mất kết nối, đang thử lại…"; };
  source.onopen = () => { if (note) note.textContent = "Tự cập nhật khi có câu hỏi mới hoặc người khác nhận, trả lời."; };
})();
