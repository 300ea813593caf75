// Web chat of Trợ lý Chuyển đổi số Đà Nẵng. Everything shown is set with textContent
// (never innerHTML), so nothing a resident or an entry contains can run as markup.
(function () {
  "use strict";
  var API = "/chat/api/messages";
  var log = document.getElementById("log");
  var form = document.getElementById("form");
  var input = document.getElementById("text");
  var langBtn = document.getElementById("lang");
  var UI = {
    vi: { placeholder: "Gõ câu hỏi, ví dụ: VNeID là gì?", send: "Gửi", topics: "Chủ đề", label: "Câu hỏi của bạn",
          switchTo: "English", switchLabel: "Switch to English", error: "Không gửi được. Bạn thử lại sau giây lát nhé.",
          note: "Câu hỏi được ghi lại để cải thiện câu trả lời. Gõ /xoadulieu để xóa dữ liệu của bạn." },
    en: { placeholder: "Type a question, e.g. What is VNeID?", send: "Send", topics: "Topics", label: "Your question",
          switchTo: "Tiếng Việt", switchLabel: "Chuyển sang tiếng Việt", error: "Could not send. Please try again in a moment.",
          note: "Questions are logged to improve the answers. Type /xoadulieu to delete your data." }
  };
  var lang = localStorage.getItem("cdsbot-lang") || "vi";

  function sessionId() {
    var id = localStorage.getItem("cdsbot-session");
    if (!id) {
      var bytes = new Uint8Array(16);
      crypto.getRandomValues(bytes);
      id = Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
      localStorage.setItem("cdsbot-session", id);
    }
    return id;
  }

  function applyLang() {
    var t = UI[lang];
    document.documentElement.lang = lang;
    input.placeholder = t.placeholder;
    document.getElementById("send").textContent = t.send;
    document.getElementById("menu").textContent = t.topics;
    document.getElementById("text-label").textContent = t.label;
    document.getElementById("note").textContent = t.note;
    langBtn.textContent = t.switchTo;
    langBtn.setAttribute("aria-label", t.switchLabel);
  }

  function bubble(text, who) {
    var div = document.createElement("div");
    div.className = "msg " + who;
    div.textContent = text;
    log.appendChild(div);
    log.scrollTop = log.scrollHeight;
    return div;
  }

  function show(reply) {
    var div = bubble(reply.text, "bot");
    if (reply.links && reply.links.length) {
      var links = document.createElement("div");
      links.className = "links";
      reply.links.forEach(function (l) {
        if (!/^https?:\/\//.test(l.url)) { return; }
        var a = document.createElement("a");
        a.href = l.url; a.textContent = l.label; a.target = "_blank"; a.rel = "noopener noreferrer";
        links.appendChild(a);
      });
      div.appendChild(links);
    }
    if (reply.buttons && reply.buttons.length) {
      var box = document.createElement("div");
      box.className = "buttons";
      reply.buttons.forEach(function (b) {
        var btn = document.createElement("button");
        btn.type = "button"; btn.textContent = b.label;
        btn.addEventListener("click", function () { bubble(b.label, "me"); send({ button: b.payload }); });
        box.appendChild(btn);
      });
      div.appendChild(box);
    }
  }

  function send(body) {
    body.session_id = sessionId();
    return fetch(API, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) })
      .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.json(); })
      .then(function (data) { data.replies.forEach(show); })
      .catch(function () { bubble(UI[lang].error, "bot"); });
  }

  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    var text = input.value.trim();
    if (!text) { return; }
    bubble(text, "me");
    input.value = "";
    send({ text: text }).then(function () { input.focus(); });
  });
  document.getElementById("menu").addEventListener("click", function () { send({ button: "m:" }); });
  langBtn.addEventListener("click", function () {
    lang = lang === "vi" ? "en" : "vi";
    localStorage.setItem("cdsbot-lang", lang);
    applyLang();
    send({ button: "l:" + lang });
  });

  // Answers from a person of the Tổ CNS arrive later: ask for them every 20 seconds.
  setInterval(function () {
    fetch(API + "?session_id=" + encodeURIComponent(sessionId()))
      .then(function (r) { return r.ok ? r.json() : { replies: [] }; })
      .then(function (data) { data.replies.forEach(show); })
      .catch(function () {});
  }, 20000);

  applyLang();
  if (!localStorage.getItem("cdsbot-started")) {
    localStorage.setItem("cdsbot-started", "1");
    send({ text: "/start" });
  } else {
    send({ button: "m:" });
  }
  input.focus();
})();
