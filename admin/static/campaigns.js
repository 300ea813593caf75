// Live progress of a campaign: polls its status every two seconds while it is
// scheduled or sending, and reloads the page once when it ends (for the results).
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  const box = document.getElementById("progress");
  if (!box) return;
  const live = (state) => state === "scheduled" || state === "sending";
  if (!live(box.dataset.state)) return;
  const set = (id, value) => { const el = document.getElementById(id); if (el) el.textContent = value; };
  const timer = window.setInterval(async () => {
    let s;
    try {
      const response = await fetch(box.dataset.url, { headers: { accept: "application/json" } });
      if (!response.ok) return;
      s = await response.json();
    } catch (error) { return; }  // the next poll tries again
    for (const key of ["sent", "total", "failed", "blocked", "skipped", "queued", "rate"]) set(key, s[key]);
    set("state", s.state_label);
    const bar = document.getElementById("bar");
    bar.max = s.total || 1;
    bar.value = s.sent + s.failed + s.blocked + s.skipped;
    if (!live(s.state)) { window.clearInterval(timer); window.location.reload(); }
  }, 2000);
});
