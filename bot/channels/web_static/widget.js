// Embeddable widget: paste <script src="https://ASSISTANT-HOST/chat/static/widget.js" defer></script>
// into a page of the city portal. It adds a button that opens the chat in a frame
// served by the assistant itself, so the portal needs no other code.
(function () {
  "use strict";
  var me = document.currentScript;
  var origin = me ? new URL(me.src).origin : "";
  var open = false;
  var btn = document.createElement("button");
  btn.type = "button";
  btn.textContent = "Hỏi Trợ lý Chuyển đổi số";
  btn.setAttribute("aria-expanded", "false");
  btn.style.cssText = "position:fixed;right:16px;bottom:16px;z-index:2147483000;font:600 18px system-ui,sans-serif;" +
    "padding:12px 18px;border:0;border-radius:24px;background:#0b5cad;color:#fff;box-shadow:0 2px 8px rgba(0,0,0,.3);cursor:pointer";
  var frame = document.createElement("iframe");
  frame.title = "Trợ lý Chuyển đổi số Đà Nẵng";
  frame.src = origin + "/chat/embed";
  frame.style.cssText = "position:fixed;right:16px;bottom:76px;z-index:2147483000;width:min(420px,calc(100vw - 32px));" +
    "height:min(640px,calc(100vh - 100px));border:1px solid #ccd;border-radius:12px;background:#fff;display:none";
  btn.addEventListener("click", function () {
    open = !open;
    frame.style.display = open ? "block" : "none";
    btn.setAttribute("aria-expanded", String(open));
    if (open) { frame.focus(); }
  });
  document.body.appendChild(frame);
  document.body.appendChild(btn);
})();
