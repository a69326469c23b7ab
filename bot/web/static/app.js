// 支部助手 dashboard: small progressive enhancements; every page also works without JS.
"use strict";

function csrfToken() {
  const field = document.querySelector('input[name="_csrf"]');
  return field ? field.value : "";
}

// Forms that ask before doing something that cannot be undone.
document.addEventListener("submit", (event) => {
  const form = event.target;
  const question = form.getAttribute("data-confirm");
  if (question && !window.confirm(question)) event.preventDefault();
});

// Filter bars submit themselves when a select changes.
document.querySelectorAll("form.filters select").forEach((select) => {
  select.addEventListener("change", () => select.form.requestSubmit());
});

// Roster import: upload with a progress bar, then follow the import job until it ends.
const importForm = document.getElementById("import-form");
if (importForm) {
  importForm.addEventListener("submit", (event) => {
    event.preventDefault();
    const bar = document.querySelector("#import-progress > div");
    const label = document.getElementById("import-status");
    document.getElementById("import-progress").hidden = false;
    const xhr = new XMLHttpRequest();
    xhr.open("POST", importForm.action);
    xhr.setRequestHeader("X-CSRF-Token", csrfToken());
    xhr.setRequestHeader("Accept", "application/json");
    xhr.upload.onprogress = (e) => {
      if (e.lengthComputable) bar.style.width = Math.round(30 * e.loaded / e.total) + "%";
    };
    xhr.onload = () => {
      let data = null;
      try { data = JSON.parse(xhr.responseText); } catch (e) { /* not JSON */ }
      if (xhr.status >= 400 || !data || !data.id) {
        label.textContent = (data && data.error && data.error.message) || "上传失败";
        return;
      }
      follow(data.id, bar, label);
    };
    xhr.onerror = () => { label.textContent = "网络错误，请重试"; };
    xhr.send(new FormData(importForm));
  });
}

function follow(jobId, bar, label) {
  fetch("/dashboard/people/import/" + encodeURIComponent(jobId) + ".json", {credentials: "same-origin"})
    .then((r) => r.json())
    .then((job) => {
      bar.style.width = (30 + Math.round(0.7 * job.percent)) + "%";
      label.textContent = "已处理 " + job.done + " / " + job.total;
      if (job.status === "running") {
        setTimeout(() => follow(jobId, bar, label), 300);
      } else {
        window.location.href = "/dashboard/people/import/" + encodeURIComponent(jobId);
      }
    })
    .catch(() => { label.textContent = "无法获取导入进度，请刷新页面"; });
}

// Notice composer: how many groups the chosen targets reach, before sending.
const composer = document.getElementById("notice-form");
if (composer) {
  const out = document.getElementById("target-count");
  const update = () => {
    const data = new URLSearchParams(new FormData(composer));
    data.delete("_csrf");
    fetch("/dashboard/notices/preview?" + data.toString(), {credentials: "same-origin"})
      .then((r) => r.json())
      .then((p) => { out.textContent = p.error ? p.error.message : p.summary; })
      .catch(() => { out.textContent = ""; });
  };
  composer.querySelectorAll("select, input[name=building]").forEach((el) => el.addEventListener("change", update));
  update();
}

// Ticket board: the assignee kind decides whether a name is needed.
document.querySelectorAll("select[data-toggle-name]").forEach((select) => {
  const target = document.getElementById(select.getAttribute("data-toggle-name"));
  const sync = () => { if (target) target.hidden = !["grid_worker", "person"].includes(select.value); };
  select.addEventListener("change", sync);
  sync();
});
