// Web chat of Trợ lý Chuyển đổi số Đà Nẵng. Everything shown is set with textContent
// (never innerHTML), so nothing a resident or an entry contains can run as markup.
// Made for elderly residents: the conversation comes back after a reload, a new answer
// scrolls so that its first line is at the top, phone numbers can be tapped, the text
// size can be changed (and is remembered), and an answer can be read aloud.
(function () {
  "use strict";
  var API = "/chat/api/messages";
  var HISTORY = "/chat/api/history";
  var log = document.getElementById("log");
  var form = document.getElementById("form");
  var input = document.getElementById("text");
  var langBtn = document.getElementById("lang");
  var SIZES = [18, 20, 22, 24, 27, 30];
  var UI = {
    vi: { placeholder: "Gõ câu hỏi, ví dụ: VNeID là gì?", send: "Gửi", topics: "Chủ đề", label: "Câu hỏi của bạn",
          person: "Gặp người thật", smaller: "chữ nhỏ hơn", larger: "chữ lớn hơn", listen: "Nghe", stop: "Dừng đọc",
          listenLabel: "Nghe đọc câu trả lời này", tools: "Công cụ", log: "Cuộc trò chuyện",
          switchTo: "English", switchLabel: "Switch to English", switchLang: "en",
          error: "Không gửi được. Bạn thử lại sau giây lát nhé.",
          note: "Câu hỏi được ghi lại để cải thiện câu trả lời. Gõ /xoadulieu để xóa dữ liệu của bạn." },
    en: { placeholder: "Type a question, e.g. What is VNeID?", send: "Send", topics: "Topics", label: "Your question",
          person: "Talk to a person", smaller: "smaller text", larger: "larger text", listen: "Listen", stop: "Stop",
          listenLabel: "Listen to this answer", tools: "Tools", log: "Conversation",
          switchTo: "Tiếng Việt", switchLabel: "Chuyển sang tiếng Việt", switchLang: "vi",
          error: "Could not send. Please try again in a moment.",
          note: "Questions are logged to improve the answers. Type /xoadulieu to delete your data." }
  };
  var lang = localStorage.getItem("cdsbot-lang") || "vi";
  var size = parseInt(localStorage.getItem("cdsbot-size") || "0", 10) || 0;
  var voice = null;

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
    document.getElementById("person").textContent = t.person;
    document.querySelector("#smaller .visually-hidden").textContent = " " + t.smaller;
    document.querySelector("#larger .visually-hidden").textContent = " " + t.larger;
    document.getElementById("toolbar").setAttribute("aria-label", t.tools);
    document.getElementById("text-label").textContent = t.label;
    document.getElementById("note").textContent = t.note;
    log.setAttribute("aria-label", t.log);
    langBtn.textContent = t.switchTo;
    langBtn.setAttribute("lang", t.switchLang);
    langBtn.setAttribute("aria-label", t.switchLabel);
    pickVoice();
  }

  function applySize() {
    size = Math.max(0, Math.min(SIZES.length - 1, size));
    document.documentElement.style.fontSize = SIZES[size] + "px";
    localStorage.setItem("cdsbot-size", String(size));
    document.getElementById("smaller").disabled = size === 0;
    document.getElementById("larger").disabled = size === SIZES.length - 1;
  }

  // Phone numbers become tel: links: numbers of 8 to 11 digits starting with 0 or +84
  // ("0236 3822 822", "(0236) 1022"), and the short hotlines (1022, 111, 113, 114, 115).
  var PHONE = /(\+84|\(0\d{2,3}\)|0)[\d .\-()]{6,14}\d|\b(1022|111|113|114|115)\b/g;

  function appendText(parent, text) {
    var last = 0;
    text.replace(PHONE, function (match, a, b, offset) {
      var digits = match.replace(/[^\d+]/g, "");
      var plain = digits.replace(/^\+84/, "0");
      if (!b && (plain.length < 8 || plain.length > 11)) { return match; }
      parent.appendChild(document.createTextNode(text.slice(last, offset)));
      var link = document.createElement("a");
      link.href = "tel:" + digits;
      link.className = "tel";
      link.textContent = match;
      parent.appendChild(link);
      last = offset + match.length;
      return match;
    });
    parent.appendChild(document.createTextNode(text.slice(last)));
  }

  function bubble(text, who) {
    var div = document.createElement("div");
    div.className = "msg " + who;
    var body = document.createElement("div");
    body.className = "text";
    if (who === "bot") { appendText(body, text); } else { body.textContent = text; }
    div.appendChild(body);
    log.appendChild(div);
    return div;
  }

  function pickVoice() {
    if (!("speechSynthesis" in window)) { voice = null; return; }
    var want = lang === "en" ? "en" : "vi";
    var voices = window.speechSynthesis.getVoices() || [];
    voice = null;
    for (var i = 0; i < voices.length; i++) {
      if ((voices[i].lang || "").toLowerCase().indexOf(want) === 0) { voice = voices[i]; break; }
    }
    document.body.classList.toggle("can-listen", voice !== null);
  }

  function listenButton(text) {
    var btn = document.createElement("button");
    btn.type = "button";
    btn.className = "listen";
    btn.textContent = "🔊 " + UI[lang].listen;
    btn.setAttribute("aria-label", UI[lang].listenLabel);
    btn.addEventListener("click", function () {
      if (!voice) { return; }
      var synth = window.speechSynthesis;
      if (synth.speaking) { synth.cancel(); return; }
      var say = new SpeechSynthesisUtterance(text);
      say.voice = voice; say.lang = voice.lang; say.rate = 0.9;
      synth.speak(say);
    });
    return btn;
  }

  function show(reply) {
    var div = bubble(reply.text, "bot");
    div.appendChild(listenButton(reply.text));
    if (reply.links && reply.links.length) {
      var links = document.createElement("div");
      links.className = "links";
      reply.links.forEach(function (l) {
        if (!/^(https?:\/\/|tel:)/.test(l.url)) { return; }
        var a = document.createElement("a");
        a.href = l.url; a.textContent = l.label;
        if (l.url.indexOf("tel:") !== 0) { a.target = "_blank"; a.rel = "noopener noreferrer"; }
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
        btn.addEventListener("click", function () { tap(b.label, b.payload); });
        box.appendChild(btn);
      });
      div.appendChild(box);
    }
    return div;
  }

  // A new answer: its first line at the top of the conversation (a long answer is read
  // from its beginning, not from the middle).
  function reveal(first) {
    if (!first) { return; }
    log.scrollTop += first.getBoundingClientRect().top - log.getBoundingClientRect().top - 8;
  }

  function showAll(replies) {
    var first = null;
    replies.forEach(function (r) { var d = show(r); first = first || d; });
    reveal(first);
  }

  function send(body) {
    body.session_id = sessionId();
    return fetch(API, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) })
      .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.json(); })
      .then(function (data) { showAll(data.replies); })
      .catch(function () { reveal(bubble(UI[lang].error, "bot")); });
  }

  function tap(label, payload) {
    bubble(label, "me");
    log.scrollTop = log.scrollHeight;
    return send({ button: payload });
  }

  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    var text = input.value.trim();
    if (!text) { return; }
    bubble(text, "me");
    log.scrollTop = log.scrollHeight;
    input.value = "";
    send({ text: text }).then(function () { input.focus(); });
  });
  document.getElementById("menu").addEventListener("click", function () { tap(UI[lang].topics, "m:"); });
  document.getElementById("person").addEventListener("click", function () { tap(UI[lang].person, "h:new"); });
  document.getElementById("smaller").addEventListener("click", function () { size -= 1; applySize(); });
  document.getElementById("larger").addEventListener("click", function () { size += 1; applySize(); });
  langBtn.addEventListener("click", function () {
    lang = lang === "vi" ? "en" : "vi";
    localStorage.setItem("cdsbot-lang", lang);
    applyLang();
    send({ button: "l:" + lang });
  });
  if ("speechSynthesis" in window) {
    window.speechSynthesis.addEventListener("voiceschanged", pickVoice);
  }

  // Answers from a person of the Tổ CNS arrive later: ask for them every 20 seconds.
  setInterval(function () {
    fetch(API + "?session_id=" + encodeURIComponent(sessionId()))
      .then(function (r) { return r.ok ? r.json() : { replies: [] }; })
      .then(function (data) { if (data.replies.length) { showAll(data.replies); } })
      .catch(function () {});
  }, 20000);

  applyLang();
  applySize();
  // The conversation so far (after a reload, or coming back another day).
  fetch(HISTORY + "?session_id=" + encodeURIComponent(sessionId()))
    .then(function (r) { return r.ok ? r.json() : { messages: [] }; })
    .catch(function () { return { messages: [] }; })
    .then(function (data) {
      data.messages.forEach(function (m) {
        if (m.from === "resident") { bubble(m.text, "me"); } else { show(m); }
      });
      log.scrollTop = log.scrollHeight;
      if (data.messages.length) {
        document.body.setAttribute("data-restored", String(data.messages.length));
        return null;
      }
      if (!localStorage.getItem("cdsbot-started")) {
        localStorage.setItem("cdsbot-started", "1");
        return send({ text: "/start" });
      }
      return send({ button: "m:" });
    });
  input.focus();
})();
