// Charts of the reports page, drawn with the vendored Chart.js from the figures the
// page embeds as JSON (#report-data). Without scripts the tables below still say it all.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  const source = document.getElementById("report-data");
  if (!source || typeof Chart === "undefined") return;
  const data = JSON.parse(source.textContent);
  const colours = ["#0b5cad", "#1f7a3a", "#9a6700", "#b3261e", "#6b4fbb", "#00838f"];
  const noAnimation = { animation: false, responsive: true, maintainAspectRatio: false };
  new Chart(document.getElementById("chart-days"), {
    type: "line",
    data: { labels: data.days, datasets: [
      { label: "Câu hỏi", data: data.questions, borderColor: colours[0], backgroundColor: colours[0] },
      { label: "Trợ lý trả lời", data: data.answered, borderColor: colours[1], backgroundColor: colours[1] },
    ] },
    options: { ...noAnimation, scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } },
  });
  new Chart(document.getElementById("chart-outcomes"), {
    type: "doughnut",
    data: { labels: data.outcomes.labels, datasets: [{ data: data.outcomes.values, backgroundColor: colours }] },
    options: noAnimation,
  });
  new Chart(document.getElementById("chart-channels"), {
    type: "bar",
    data: { labels: data.channels.labels, datasets: [{ label: "Câu hỏi", data: data.channels.values, backgroundColor: colours[0] }] },
    options: { ...noAnimation, plugins: { legend: { display: false } }, scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } },
  });
  new Chart(document.getElementById("chart-topics"), {
    type: "bar",
    data: { labels: data.topics.labels, datasets: [{ label: "Số lần trả lời", data: data.topics.values, backgroundColor: colours[1] }] },
    options: { ...noAnimation, indexAxis: "y", plugins: { legend: { display: false } }, scales: { x: { beginAtZero: true, ticks: { precision: 0 } } } },
  });
  document.body.dataset.chartsReady = "yes";
});
