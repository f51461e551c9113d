/* Live updates over server-sent events, and the broadcasts list. An EventSource cannot send
   the initData header: a short-lived stream token is minted with it (POST live/token) and the
   stream URL carries the token. On each change the page reads again what it shows; when the
   token expires the stream ends and another is minted, resuming from the last event id.
   Uses app.js's globals (state, api, loadOverview, loadUsers, loadUser, $, make, clear, text). */
"use strict";

(function () {
  const WORDS = {
    tr: { broadcasts: "Duyurular", none: "Henüz duyuru yok.", live: "● canlı", off: "○ canlı değil",
          states: { draft: "taslak", sending: "gönderiliyor", done: "tamamlandı", cancelled: "iptal" },
          counts: "ulaştı {sent} · engelledi {blocked} · başarısız {failed} · belirsiz {unknown} · kalan {left}" },
    en: { broadcasts: "Broadcasts", none: "No broadcasts yet.", live: "● live", off: "○ not live",
          states: { draft: "draft", sending: "sending", done: "finished", cancelled: "cancelled" },
          counts: "reached {sent} · blocked {blocked} · failed {failed} · unknown {unknown} · left {left}" },
  };
  const live = { last: "", source: null, busy: false, again: false, wait: 1000, events: 0 };
  const words = () => WORDS[Dash.lang] || WORDS.en;
  const fill = (s, v) => s.replace(/\{(\w+)\}/g, (_, k) => Dash.number(v[k] || 0));

  function panel() {
    let section = $("broadcasts");
    if (section) return section;
    section = make("section", "panel");
    section.id = "broadcasts";
    section.appendChild(make("h2", "", words().broadcasts));
    const list = make("ul", "rows");
    list.id = "broadcast-list";
    section.appendChild(list);
    $("content").appendChild(section);
    const badge = make("span", "hint", words().off);
    badge.id = "live";
    document.querySelector("header.top").appendChild(badge);
    return section;
  }

  function show(on) {
    const badge = $("live");
    if (badge) { text(badge, on ? words().live : words().off); badge.dataset.live = on ? "on" : "off"; }
  }

  async function loadBroadcasts() {
    panel();
    const r = await api("live/broadcasts");
    if (!r.ok) return;
    const list = $("broadcast-list");
    clear(list);
    if (!r.data.broadcasts.length) list.appendChild(make("li", "empty hint", words().none));
    for (const b of r.data.broadcasts) {
      const li = make("li", "row");
      li.dataset.id = String(b.id);
      li.dataset.state = b.state;
      const who = make("span", "who");
      who.appendChild(make("span", "name", "#" + b.id + " · " + b.segment + " · " + (words().states[b.state] || b.state)));
      const c = b.counts;
      who.appendChild(make("span", "hint counts", fill(words().counts, { ...c, left: (c.pending || 0) + (c.sending || 0) + (c.skipped || 0) })));
      li.appendChild(who);
      li.appendChild(make("span", "num", Dash.number(b.total - (c.pending || 0) - (c.sending || 0)) + " / " + Dash.number(b.total)));
      list.appendChild(li);
    }
  }

  /* Everything the page shows, read again (one refresh at a time; a change during it, once more). */
  function refresh() {
    if (live.busy) { live.again = true; return; }
    live.busy = true;
    const work = [loadOverview(), loadUsers(), loadBroadcasts()];
    if (state.user && !$("user").hidden) work.push(loadUser(state.user.id, state.hpage));
    Promise.allSettled(work).then(() => {
      live.busy = false;
      if (live.again) { live.again = false; refresh(); }
    });
  }

  function later() {
    show(false);
    setTimeout(connect, live.wait);
    live.wait = Math.min(live.wait * 2, 30000);
  }

  async function connect() {
    let r;
    try {
      r = await fetch("live/token", { method: "POST", headers: { Authorization: "tma " + params.initData }, cache: "no-store" });
    } catch (e) { later(); return; }
    if (r.status === 401 || r.status === 403) { show(false); return; }  // initData expired: reopen the Mini App
    if (!r.ok) { later(); return; }
    const t = await r.json();
    const url = "live/stream?token=" + encodeURIComponent(t.token) + (live.last ? "&last=" + encodeURIComponent(live.last) : "");
    const source = new EventSource(url);
    live.source = source;
    const seen = (e) => { if (e.lastEventId) live.last = e.lastEventId; live.wait = 1000; show(true); };
    source.addEventListener("ready", seen);
    source.addEventListener("change", (e) => { seen(e); live.events += 1; refresh(); });
    source.addEventListener("expired", (e) => { seen(e); source.close(); connect(); });
    // A dropped connection: the browser connects again by itself (with Last-Event-ID) while the
    // token is good; once the server refuses it, the source is closed and a new token is minted.
    source.onerror = () => { if (source.readyState === EventSource.CLOSED) { show(false); later(); } };
  }

  function begin() {
    if (!state.overview) { setTimeout(begin, 100); return; }
    panel();
    loadBroadcasts().catch(() => {});
    if (window.EventSource) connect();
  }

  window.DashLive = live;
  if (params.initData) begin();
})();
