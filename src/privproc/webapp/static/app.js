// privproc messenger: the page's one script (no build step, no third-party code).
// Every value from the server goes into the page as text (textContent), never as HTML.
"use strict";
(function () {
  const token = document.querySelector('meta[name="privproc-token"]').content;
  const chat = document.body.dataset.chat;
  const $ = (id) => document.getElementById(id);

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
    for (const c of children) node.append(c instanceof Node ? c : String(c));
    return node;
  }

  async function call(path, body) {
    const init = { method: body === undefined ? "GET" : "POST",
                   headers: { "X-Privproc-Token": token } };
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    let answer;
    try {
      answer = await fetch(path, init);
    } catch (e) {
      throw { check: "app", words: "The app is not answering" };
    }
    const doc = await answer.json().catch(() => ({}));
    if (!answer.ok) throw doc.error || { check: "app", words: "Something went wrong" };
    return doc;
  }

  function showError(err) {
    const box = $("error");
    box.replaceChildren(el("strong", {}, err.words), " ", el("code", {}, err.check));
    box.hidden = false;
  }
  function clearError() { $("error").hidden = true; }

  // Hover shows a point's source message ("hover"); a click pins it ("highlight").
  function mark(index, cls, on) {
    const m = $("m-" + index);
    if (m) m.classList.toggle(cls, on);
  }

  async function summarize() {
    clearError();
    const region = $("summary");
    region.replaceChildren(el("p", { class: "hint" }, "Sending to a verified node…"));
    try {
      const doc = await call("/api/summarize", { chat });
      const list = el("ul", {});
      for (const p of doc.points) {
        const link = el("a", { href: "#m-" + p.message, "data-message": p.message },
                        p.sender + ": " + p.text);
        link.addEventListener("mouseenter", () => mark(p.message, "hover", true));
        link.addEventListener("mouseleave", () => mark(p.message, "hover", false));
        link.addEventListener("focus", () => mark(p.message, "hover", true));
        link.addEventListener("blur", () => mark(p.message, "hover", false));
        link.addEventListener("click", () => {
          document.querySelectorAll(".msg.highlight").forEach((m) => m.classList.remove("highlight"));
          mark(p.message, "highlight", true);
        });
        list.append(el("li", { class: "point " + p.kind }, link));
      }
      region.replaceChildren(el("h3", {}, "Summary"), el("p", {}, doc.summary), list);
      loadRequests();
    } catch (err) { region.replaceChildren(); showError(err); }
  }

  async function suggest() {
    clearError();
    const tones = [...document.querySelectorAll('input[name="tone"]:checked')].map((t) => t.value);
    const region = $("suggestions");
    region.replaceChildren(el("p", { class: "hint" }, "Sending to a verified node…"));
    try {
      const doc = await call("/api/suggest", { chat, draft: $("draft").value, tones });
      const list = el("ul", {});
      const options = [["proofread", doc.proofread], ...Object.entries(doc.rewrites)];
      for (const [name, text] of options) {
        if (!text) continue;
        const use = el("button", { type: "button", class: "use" }, text);
        use.setAttribute("aria-label", "Use " + name + ": " + text);
        use.addEventListener("click", () => { $("draft").value = text; });
        list.append(el("li", {}, el("span", { class: "tone" }, name), " ", use));
      }
      region.replaceChildren(el("h3", {}, "Suggestions"), list);
      loadRequests();
    } catch (err) { region.replaceChildren(); showError(err); }
  }

  function setBlocked(on) {
    for (const b of document.querySelectorAll("button.ai")) b.disabled = on;
    $("ai-reason").hidden = !on;
  }

  async function toggle() {
    clearError();
    const on = $("privacy").checked;
    setBlocked(on);
    try {
      const doc = await call("/api/privacy", { chat, on });
      $("privacy").checked = doc.on;
      setBlocked(doc.on);
    } catch (err) { showError(err); }
  }

  function details(summary, ...rows) {
    return el("details", {}, el("summary", {}, summary), ...rows);
  }

  function checkItem(c) {
    return el("li", { class: c.ok ? "ok" : "refused" },
      el("span", { class: "mark" }, c.ok ? "passed" : "refused"), " ", c.words,
      details("details", el("code", {}, c.check), " ", c.detail));
  }

  async function verification() {
    const panel = $("verification");
    const button = $("verify-button");
    if (!panel.hidden) { panel.hidden = true; button.setAttribute("aria-expanded", "false"); return; }
    panel.hidden = false;
    button.setAttribute("aria-expanded", "true");
    panel.replaceChildren(el("h2", {}, "Verification"), el("p", { class: "hint" }, "Checking…"));
    try {
      const v = await call("/api/verification");
      const cp = v.checkpoint;
      const parts = [el("h2", {}, "Verification"),
        el("h3", {}, "Checkpoint"),
        el("p", {}, `The public ledger holds ${cp.size} entries; its checkpoint was cosigned by `
          + `${cp.cosigners.length} independent witness${cp.cosigners.length === 1 ? "" : "es"}: `
          + cp.cosigners.join(", ") + "."),
        details("details", el("dl", {}, el("dt", {}, "origin"), el("dd", {}, cp.origin),
          el("dt", {}, "root"), el("dd", {}, el("code", {}, cp.root))))];
      for (const r of v.releases) {
        parts.push(el("h3", {}, "Release"),
          el("p", {}, `The nodes run release ${r.version}, published in the ledger at index `
            + `${r.ledger_index}.`),
          details("details", el("dl", {},
            el("dt", {}, "measurement"), el("dd", {}, el("code", {}, r.measurement)),
            el("dt", {}, "model digest"),
            el("dd", {}, r.model_digest ? el("code", {}, r.model_digest) : "none recorded"))));
      }
      for (const p of v.parties) {
        parts.push(el("h3", {}, p.name), el("ul", { class: "checks" }, ...p.checks.map(checkItem)));
      }
      parts.push(el("h3", {}, "Nodes"));
      for (const n of v.nodes) {
        parts.push(el("div", { class: "node " + (n.ok ? "ok" : "refused"), "data-node": n.name },
          el("h4", {}, n.name + " — " + (n.ok ? "verified" : "refused")),
          el("ul", { class: "checks" }, ...n.checks.map(checkItem))));
      }
      const last = v.last_request;
      parts.push(el("h3", {}, "Last request"), el("p", {}, last
        ? `Named ${last.named.length} nodes (${last.named.join(", ")}); ${last.answered_by} answered.`
        : "No request sent yet."));
      panel.replaceChildren(...parts);
    } catch (err) {
      panel.replaceChildren(el("h2", {}, "Verification"),
        el("p", { class: "refused" }, el("strong", {}, err.words), " ", el("code", {}, err.check)));
    }
  }

  async function loadRequests() {
    try {
      const rows = await call("/api/requests");
      $("request-rows").replaceChildren(...rows.map((r) => el("tr", {},
        el("td", {}, String(r.time).slice(11, 19)), el("td", {}, r.feature), el("td", {}, r.bytes),
        el("td", {}, r.named.join(", ")), el("td", {}, r.answered_by),
        el("td", {}, "index " + r.release_index))));
    } catch (err) { showError(err); }
  }

  $("summarize").addEventListener("click", summarize);
  $("suggest").addEventListener("click", suggest);
  $("privacy").addEventListener("change", toggle);
  $("verify-button").addEventListener("click", verification);
  loadRequests();
})();
