/* The dashboard: launch parameters from Telegram (or the URL fragment), the theme, the figures,
   the users, one user's card with its credit actions, and the admin actions (audit).
   The server speaks /api/v1's convention: money as strings ("12.50"), errors as problem documents. Every string from the server goes in
   with textContent; nothing is ever put in as HTML. */
"use strict";

const $ = (id) => document.getElementById(id);
const tg = window.Telegram && window.Telegram.WebApp && window.Telegram.WebApp.initData !== undefined
  ? window.Telegram.WebApp : null;

/* initData and theme as Telegram hands them over: telegram-web-app.js when it loaded, else
   the tgWebAppData / tgWebAppThemeParams parameters of the URL fragment, read here. */
function launch() {
  const hash = new URLSearchParams(location.hash.slice(1));
  const initData = (tg && tg.initData) || hash.get("tgWebAppData") || "";
  let theme = tg && tg.themeParams && Object.keys(tg.themeParams).length ? tg.themeParams : null;
  if (!theme) {
    try { theme = JSON.parse(hash.get("tgWebAppThemeParams") || "null"); } catch (e) { theme = null; }
  }
  let language = "";
  try { language = JSON.parse(new URLSearchParams(initData).get("user") || "{}").language_code || ""; } catch (e) { /* none */ }
  return { initData, theme, language: language || navigator.language || "" };
}

const THEME_VARS = {
  bg_color: "--bg", text_color: "--text", hint_color: "--hint", link_color: "--link",
  button_color: "--button", button_text_color: "--button-text", secondary_bg_color: "--secondary-bg",
  section_bg_color: "--section-bg", destructive_text_color: "--destructive", accent_text_color: "--accent",
};

function applyTheme(theme) {
  if (!theme || typeof theme !== "object") return;
  const root = document.documentElement;
  for (const [key, name] of Object.entries(THEME_VARS)) {
    const value = theme[key];
    if (typeof value === "string" && /^#[0-9a-fA-F]{6}$/.test(value)) root.style.setProperty(name, value);
  }
  const bg = theme.bg_color;
  if (typeof bg === "string" && /^#[0-9a-fA-F]{6}$/.test(bg)) {
    const [r, g, b] = [1, 3, 5].map((i) => parseInt(bg.slice(i, i + 2), 16));
    root.dataset.scheme = 0.299 * r + 0.587 * g + 0.114 * b < 128 ? "dark" : "light";
  }
}

const params = launch();
const state = { overview: null, q: "", sort: "used", page: 0, usersAsked: 0, user: null, hpage: 0, action: null, key: null,
  auditActor: "", auditUser: "", apage: 0, auditAsked: 0 };

class Denied extends Error {}

async function api(path, body) {
  const init = { headers: { Authorization: "tma " + params.initData }, cache: "no-store" };
  if (body !== undefined) {
    init.method = "POST";
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const response = await fetch(path, init);
  if (response.status === 401 || response.status === 403) throw new Denied(String(response.status));
  let data = null;
  try { data = await response.json(); } catch (e) { data = null; }
  return { ok: response.ok, status: response.status, data };
}

function text(node, value) { node.textContent = value; return node; }

function make(tag, cls, value) {
  const node = document.createElement(tag);
  if (cls) node.className = cls;
  if (value !== undefined) node.textContent = value;
  return node;
}

function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); }

function translate() {
  document.documentElement.lang = Dash.lang;
  document.querySelectorAll("[data-t]").forEach((node) => text(node, Dash.t(node.dataset.t)));
  document.querySelectorAll("[data-t-placeholder]").forEach((node) => { node.placeholder = Dash.t(node.dataset.tPlaceholder); });
  document.title = Dash.t("title");
}

function pickLanguage(code) {
  code = (code || "").toLowerCase();
  return ["tr", "en"].find((l) => code === l || code.startsWith(l + "-")) || null;
}

/* Nothing stays on screen once the server says no: the content is emptied, not just hidden. */
function deny(reason) {
  const content = $("content");
  if (content) content.remove();
  document.body.dataset.state = "denied";
  text($("status"), Dash.t(reason === "expired" ? "expired" : "denied"));
  $("status").hidden = false;
}

function failed(error) {
  if (error instanceof Denied) { deny(state.overview ? "expired" : "denied"); return; }
  text($("status"), Dash.t("failed"));
  $("status").hidden = false;
}

function displayName(u) {
  return u.name || (u.username ? "@" + u.username : String(u.id));
}

/* -- the overview: cards, economy, charts, top spenders -- */
function renderOverview(o) {
  const s = o.stats;
  document.querySelectorAll("[data-stat]").forEach((node) => {
    const key = node.dataset.stat;
    const money = key.startsWith("credit_");
    const value = s[key];
    node.dataset.value = String(money ? Dash.kurus(value) : value);  // kuruş, whatever the wire's form
    const shown = money ? Dash.money(value) : Dash.number(value);
    text(node.querySelector(".value, dd"), shown);
  });
  text($("users-sub"), Dash.t("users_sub", { users: Dash.number(s.users), credit: Dash.number(s.credit_users) }));
  drawCharts();
  const top = $("top");
  clear(top);
  if (!o.top.length) top.appendChild(make("li", "empty hint", Dash.t("top_empty")));
  o.top.forEach((p, i) => {
    const li = make("li", "row");
    li.appendChild(make("span", "rank", String(i + 1)));
    const who = make("span", "who");
    const name = make("span", "name", displayName(p));
    if (p.vip) name.appendChild(make("span", "pill", "VIP"));
    who.appendChild(name);
    who.appendChild(make("span", "hint", (p.username ? "@" + p.username + " · " : "") + p.id));
    li.appendChild(who);
    li.appendChild(make("span", "num", Dash.number(p.spent) + " " + Dash.t("token_unit")));
    li.dataset.id = String(p.id);
    top.appendChild(li);
  });
  renderGifts(o.gifts || []);
}

/* Gift flows of the last 7 days, biggest first: who funnels tokens to whom. */
function renderGifts(flows) {
  const list = $("gifts");
  clear(list);
  if (!flows.length) list.appendChild(make("li", "empty hint", Dash.t("gifts_empty")));
  flows.forEach((f) => {
    const li = make("li", "row");
    const who = make("span", "who");
    who.appendChild(make("span", "name", (f.sender_name || String(f.sender)) + " → " +
                                          (f.recipient_name || String(f.recipient))));
    who.appendChild(make("span", "hint", f.sender + " → " + f.recipient + " · " +
                                         Dash.t("gifts_count", { n: Dash.number(f.gifts) })));
    li.appendChild(who);
    li.appendChild(make("span", "num", Dash.number(f.amount) + " " + Dash.t("token_unit")));
    list.appendChild(li);
  });
}

function drawCharts() {
  if (!state.overview) return;
  Dash.drawDays($("chart-days"), state.overview.days);
  Dash.drawItems($("chart-items"), state.overview.stats.spent_per_item);
}

async function loadOverview() {
  const r = await api("api/overview");
  if (!r.ok) throw new Error(String(r.status));
  const first = !state.overview;
  state.overview = r.data;
  Dash.zone = r.data.timezone || "UTC";  // the community's zone: every time and day is shown in it
  if (first) {
    Dash.lang = r.data.lang;
    translate();
    text($("who"), r.data.admin.name);
  }
  $("content").hidden = false;
  $("status").hidden = true;
  document.body.dataset.state = "ready";
  renderOverview(r.data);
}

/* -- users with credit -- */
async function loadUsers() {
  const query = new URLSearchParams({ q: state.q, sort: state.sort, page: String(state.page) });
  const asked = ++state.usersAsked;
  const r = await api("api/users?" + query);
  if (!r.ok || asked !== state.usersAsked) return;  // a later search has been sent: its answer counts
  const list = $("user-list");
  clear(list);
  if (!r.data.users.length) list.appendChild(make("li", "empty hint", Dash.t("users_empty")));
  for (const u of r.data.users) {
    const li = make("li");
    const b = make("button", "row user-row");
    b.type = "button";
    b.dataset.id = String(u.id);
    const who = make("span", "who");
    who.appendChild(make("span", "name", displayName(u)));
    who.appendChild(make("span", "hint", (u.username ? "@" + u.username + " · " : "") + u.id));
    b.appendChild(who);
    const fig = make("span", "credit");
    fig.appendChild(make("span", "num", Dash.money(u.available)));
    fig.appendChild(make("span", "hint", Dash.money(u.used) + " / " + Dash.money(u.quota)));
    const meter = make("span", "meter");
    const fill = make("span", "fill");
    const quota = Dash.kurus(u.quota);
    fill.style.width = (quota ? Math.min(100, (100 * Dash.kurus(u.used)) / quota) : 0).toFixed(1) + "%";
    meter.appendChild(fill);
    fig.appendChild(meter);
    b.appendChild(fig);
    b.addEventListener("click", () => openUser(u.id));
    li.appendChild(b);
    list.appendChild(li);
  }
  state.page = r.data.page;
  text($("users-page"), Dash.t("page", { page: r.data.page + 1, pages: r.data.pages, total: Dash.number(r.data.total) }));
  $("users-prev").disabled = r.data.page === 0;
  $("users-next").disabled = r.data.page + 1 >= r.data.pages;
}

/* -- one user's card -- */
const NOTE_KINDS = ["quota_increase", "quota_decrease", "file_charge", "usage_remove"];
const EARN_REFS = ["registration", "daily", "grant"];

/* A journal line in the bot's words (handlers/common.py describe), with the admin's note of a
   credit movement, as /user shows it. */
function describe(e) {
  const content = e.ref.startsWith("content:") ? e.ref.slice(8) : null;
  if (e.kind === "earn") return EARN_REFS.includes(e.ref) ? Dash.t("reason_" + e.ref) : Dash.t("reason_grant_for", { reason: e.ref.slice(0, 80) });
  if (e.kind === "convert") return Dash.t("reason_convert");
  if (e.kind === "spend") return content !== null ? Dash.t("reason_content", { title: (e.title || content).slice(0, 60) }) : Dash.t("item_" + e.ref);
  if (e.kind === "delivery_refund") {
    return content !== null ? Dash.t("reason_refund_content", { title: (e.title || content).slice(0, 60) }) : Dash.t("reason_refund_file");
  }
  if (NOTE_KINDS.includes(e.kind)) return Dash.t("reason_" + e.kind) + (e.ref ? " · " + e.ref.slice(0, 80) : "");
  return Dash.t("reason_other");
}

function deltaText(e) {
  const sign = e.delta > 0 ? "+" : "";
  if (e.asset === "CREDIT") return sign + Dash.money(e.delta);
  return sign + Dash.number(e.delta) + " " + (e.asset === "XP" ? "XP" : Dash.t("token_unit"));
}

function renderUser(u) {
  text($("u-name"), displayName(u));
  const meta = [u.username ? "@" + u.username : null, "id " + u.id, Dash.t("since", { when: Dash.when(u.registered_at) }),
    Dash.t(u.active ? "active" : "inactive")].filter(Boolean);
  text($("u-meta"), meta.join(" · "));
  for (const node of $("u-figures").querySelectorAll("[data-f]")) {
    const f = node.dataset.f;
    const money = ["quota", "used", "available"].includes(f);
    node.dataset.value = String(money ? Dash.kurus(u[f]) : u[f]);
    text(node.querySelector("dd"), money ? Dash.money(u[f]) : Dash.number(u[f]));
  }
  const perks = $("u-perks");
  clear(perks);
  const items = [];
  if (u.vip) items.push(Dash.t("vip"));
  if (u.badge) items.push(Dash.t("badge"));
  if (u.boost_until) items.push(Dash.t("boost", { until: Dash.when(u.boost_until) }));
  if (u.dm_until) items.push(Dash.t("dm", { until: Dash.when(u.dm_until) }));
  if (u.content.length) items.push(Dash.t("content", { n: u.content.length }));
  for (const p of items.length ? items : [Dash.t("no_perks")]) perks.appendChild(make("li", items.length ? "perk" : "hint", p));
  const history = $("u-history");
  clear(history);
  if (!u.history.entries.length) history.appendChild(make("li", "empty hint", Dash.t("history_empty")));
  for (const e of u.history.entries) {
    const li = make("li", "row");
    const what = make("span", "who");
    what.appendChild(make("span", "name", describe(e)));
    what.appendChild(make("span", "hint", Dash.when(e.ts)));
    li.appendChild(what);
    li.appendChild(make("span", "num " + (e.delta < 0 ? "neg" : "pos"), deltaText(e)));
    history.appendChild(li);
  }
  state.hpage = u.history.page;
  text($("h-page"), Dash.t("hpage", { page: u.history.page + 1, pages: u.history.pages, total: Dash.number(u.history.total) }));
  $("h-prev").disabled = u.history.page === 0;
  $("h-next").disabled = u.history.page + 1 >= u.history.pages;
}

async function loadUser(id, page) {
  const r = await api("api/users/" + encodeURIComponent(id) + "?page=" + (page || 0));
  if (!r.ok) return false;
  state.user = r.data;
  renderUser(r.data);
  return true;
}

async function openUser(id) {
  closeConfirm();
  text($("action-result"), "");
  $("amount").value = "";
  if (!(await loadUser(id, 0))) return;
  $("user").hidden = false;
  $("user").scrollIntoView({ behavior: "smooth", block: "start" });
}

/* -- credit actions: amount, confirm, one key per confirm step -- */
const MONEY = /^([0-9]{1,20})(?:[.,]([0-9]{1,2}))?$/;

function kurus(textValue) {
  const m = MONEY.exec(textValue.trim());
  if (!m) return null;
  const value = Number(m[1]) * 100 + Number((m[2] || "0").padEnd(2, "0"));
  return value > 0 ? value : null;
}

function newKey() {
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

function closeConfirm() {
  state.action = null;
  state.key = null;
  $("confirm").hidden = true;
}

function ask(action) {
  const amount = kurus($("amount").value);
  const result = $("action-result");
  result.className = "result";
  if (amount === null) {
    result.classList.add("bad");
    text(result, Dash.t("bad_amount"));
    return;
  }
  text(result, "");
  state.action = { action, amount: $("amount").value.trim() };
  state.key = newKey();
  text($("confirm-text"), Dash.t("ask_" + action, { name: displayName(state.user), amount: Dash.money(amount) }));
  $("confirm").hidden = false;
}

async function confirmAction() {
  if (!state.action || !state.user) return;
  const { action, amount } = state.action;
  const userId = state.user.id;
  const r = await api("api/users/" + userId + "/credit", { action, amount, key: state.key });
  const result = $("action-result");
  result.className = "result";
  if (r.ok) {
    const d = r.data;
    text(result, Dash.t("done_" + action, { amount: Dash.money(d.amount), quota: Dash.money(d.quota),
      used: Dash.money(d.used), available: Dash.money(d.available) }));
    result.classList.add("good");
    closeConfirm();
    $("amount").value = "";
    await Promise.all([loadUser(userId, 0), loadOverview(), loadUsers(), loadAudit()]);
  } else {
    /* A problem document as /api/v1 sends it: `refusal` names a ledger refusal, its figures are
       extension members (money as strings). */
    const d = r.data || {};
    const why = d.refusal || d.title || r.status;
    const figures = {};
    for (const f of ["quota", "used", "amount"]) if (d[f] !== undefined) figures[f] = Dash.money(d[f]);
    const message = Dash.t("err_" + (d.refusal || "other"), { ...figures, error: why });
    text(result, message.startsWith("err_") ? Dash.t("err_other", { error: why }) : message);
    result.classList.add("bad");
    closeConfirm();
  }
}

/* -- the audit trail: who did what to whom, newest first, by admin or user, paged -- */
function figuresText(f) {
  const parts = [];
  if (f.quota !== undefined) parts.push(Dash.t("quota") + " " + Dash.money(f.quota));
  if (f.used !== undefined) parts.push(Dash.t("used") + " " + Dash.money(f.used));
  if (f.xp !== undefined) parts.push("XP " + Dash.number(f.xp));
  if (f.tokens !== undefined) parts.push(Dash.t("tokens") + " " + Dash.number(f.tokens));
  return parts.join(", ");
}

function amountText(a) {
  if (a.amount === null || a.amount === undefined) return "";
  if (a.unit === "TL") return Dash.money(a.amount);
  return Dash.number(a.amount) + " " + (a.unit === "tokens" ? Dash.t("token_unit") : a.unit);
}

async function loadAudit() {
  const query = new URLSearchParams({ actor: state.auditActor, user: state.auditUser, page: String(state.apage) });
  const asked = ++state.auditAsked;
  const r = await api("api/audit?" + query);
  if (asked !== state.auditAsked) return;
  const list = $("audit-list");
  clear(list);
  if (!r.ok) {
    list.appendChild(make("li", "empty hint", (r.data && r.data.detail) || Dash.t("failed")));
    return;
  }
  if (!r.data.entries.length) list.appendChild(make("li", "empty hint", Dash.t("audit_empty")));
  for (const a of r.data.entries) {
    const li = make("li", "row audit-row");
    li.dataset.id = String(a.id);
    const what = make("span", "who");
    what.appendChild(make("span", "name", a.action + (a.user_id !== null ? " · " + a.user_id : "")));
    what.appendChild(make("span", "hint", Dash.when(a.ts) + " · " + Dash.t("audit_by", { actor: a.actor, via: a.via })));
    const change = Object.keys(a.after).length
      ? Dash.t("audit_change", { before: figuresText(a.before) || "-", after: figuresText(a.after) }) : "";
    const note = [change, a.note].filter(Boolean).join(" · ");
    if (note) what.appendChild(make("span", "hint note", note));
    li.appendChild(what);
    li.appendChild(make("span", "num", amountText(a)));
    list.appendChild(li);
  }
  state.apage = r.data.page;
  text($("audit-page"), Dash.t("apage", { page: r.data.page + 1, pages: r.data.pages, total: Dash.number(r.data.total) }));
  $("audit-prev").disabled = r.data.page === 0;
  $("audit-next").disabled = r.data.page + 1 >= r.data.pages;
}

function guarded(fn) {
  return (...args) => Promise.resolve(fn(...args)).catch(failed);
}

function wire() {
  let timer = null;
  $("search").addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(guarded(() => { state.q = $("search").value; state.page = 0; return loadUsers(); }), 250);
  });
  $("sort").addEventListener("change", guarded(() => { state.sort = $("sort").value; state.page = 0; return loadUsers(); }));
  $("users-prev").addEventListener("click", guarded(() => { state.page -= 1; return loadUsers(); }));
  $("users-next").addEventListener("click", guarded(() => { state.page += 1; return loadUsers(); }));
  $("h-prev").addEventListener("click", guarded(() => loadUser(state.user.id, state.hpage - 1)));
  $("h-next").addEventListener("click", guarded(() => loadUser(state.user.id, state.hpage + 1)));
  $("u-close").addEventListener("click", () => { $("user").hidden = true; closeConfirm(); });
  document.querySelectorAll("[data-action]").forEach((b) => b.addEventListener("click", () => ask(b.dataset.action)));
  $("confirm-yes").addEventListener("click", guarded(confirmAction));
  $("confirm-no").addEventListener("click", closeConfirm);
  let auditTimer = null;
  const auditFilter = () => {
    clearTimeout(auditTimer);
    auditTimer = setTimeout(guarded(() => {
      state.auditActor = $("audit-admin").value.trim();
      state.auditUser = $("audit-user").value.trim();
      state.apage = 0;
      return loadAudit();
    }), 250);
  };
  $("audit-admin").addEventListener("input", auditFilter);
  $("audit-user").addEventListener("input", auditFilter);
  $("audit-prev").addEventListener("click", guarded(() => { state.apage -= 1; return loadAudit(); }));
  $("audit-next").addEventListener("click", guarded(() => { state.apage += 1; return loadAudit(); }));
  let resize = null;
  window.addEventListener("resize", () => { clearTimeout(resize); resize = setTimeout(drawCharts, 150); });
  setInterval(() => { if (document.visibilityState === "visible" && state.overview) guarded(loadOverview)(); }, 30000);
}

async function start() {
  Dash.lang = pickLanguage(params.language) || "tr";
  applyTheme(params.theme);
  translate();
  if (tg) {
    tg.ready();
    tg.expand();
    if (tg.isVersionAtLeast && tg.isVersionAtLeast("6.1")) {
      tg.setHeaderColor("secondary_bg_color");  // Telegram's bar in the page's own background
      tg.setBackgroundColor("secondary_bg_color");
    }
    tg.onEvent("themeChanged", () => { applyTheme(tg.themeParams); drawCharts(); });
  }
  if (!params.initData) { deny("denied"); return; }
  wire();
  await loadOverview();
  await loadUsers();
  await loadAudit();
}

start().catch(failed);
