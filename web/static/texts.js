/* The page's strings in Turkish and English, and number/money/date formats matching the bot's. */
"use strict";

window.Dash = window.Dash || {};

Dash.TEXTS = {
  tr: {
    title: "Yönetim paneli",
    loading: "Yükleniyor…",
    denied: "Bu sayfa yalnızca adminler içindir: botta /dashboard yazıp düğmeyle ya da menü düğmesiyle açın.",
    expired: "Oturum süresi doldu: paneli bottan yeniden açın.",
    failed: "Veriler alınamadı; biraz sonra yeniden deneyin.",
    card_quota: "Toplam kredi kotası",
    card_used: "Kullanılan krediler",
    card_available: "Kullanılabilir krediler",
    card_active: "Aktif kullanıcılar",
    users_sub: "{users} kayıtlı · {credit} kotalı",
    economy: "Token ekonomisi",
    minted: "Basılan",
    spent: "Harcanan",
    circulation: "Dolaşımda",
    pending_xp: "Bekleyen XP",
    by_item: "Ürüne göre harcama",
    per_day: "Günlük token (son 30 gün)",
    earned: "Kazanılan",
    spent_tokens: "Harcanan",
    top: "En çok harcayanlar",
    top_empty: "Henüz harcama yok.",
    gifts: "Hediye akışları (7 gün)",
    gifts_empty: "Son 7 günde hediye yok.",
    gifts_count: "{n} hediye",
    users: "Kredili kullanıcılar",
    search: "Ara: id, @kullanıcı adı ya da isim",
    sort_used: "Kullanılana göre",
    sort_available: "Kalana göre",
    users_empty: "Kullanıcı bulunamadı.",
    page: "Sayfa {page}/{pages} · {total} kişi",
    hpage: "Sayfa {page}/{pages} · {total} hareket",
    close: "Kapat",
    quota: "Kota",
    used: "Kullanılan",
    available: "Kalan",
    tokens: "Token",
    since: "Kayıt {when}",
    active: "aktif",
    inactive: "botu engellemiş",
    vip: "VIP",
    badge: "Koleksiyoncu rozeti",
    boost: "Boost {until} tarihine kadar",
    dm: "Öncelikli DM {until} tarihine kadar",
    content: "{n} premium içerik",
    no_perks: "Ayrıcalık yok",
    amount: "Tutar (TL)",
    raise: "Kotayı artır",
    lower: "Kotayı düşür",
    refund: "Kullanım iadesi",
    confirm: "Onayla",
    cancel: "Vazgeç",
    ask_raise: "{name} kullanıcısının kotası {amount} artırılsın mı?",
    ask_lower: "{name} kullanıcısının kotası {amount} düşürülsün mü?",
    ask_refund: "{name} kullanıcısına {amount} kullanım iadesi yapılsın mı?",
    done_raise: "Kota {amount} artırıldı. Kota {quota} · kullanılan {used} · kalan {available}",
    done_lower: "Kota {amount} düşürüldü. Kota {quota} · kullanılan {used} · kalan {available}",
    done_refund: "{amount} iade edildi. Kota {quota} · kullanılan {used} · kalan {available}",
    bad_amount: "Geçerli bir tutar yazın: düz, pozitif bir sayı (TL, en fazla iki ondalık, ör. 150 ya da 12,50).",
    err_QuotaBelowUsage: "Kota kullanılanın altına düşemez: kota {quota}, kullanılan {used}.",
    err_RefundTooLarge: "İade kullanılandan fazla olamaz: kullanılan {used}.",
    err_InvalidAmount: "Geçerli bir tutar yazın: düz, pozitif bir sayı (TL, en fazla iki ondalık, ör. 150 ya da 12,50).",
    err_NotFound: "Kullanıcı bulunamadı.",
    err_StorageBusy: "Veritabanı meşgul; hiçbir şey yazılmadı, yeniden deneyin.",
    err_other: "İşlem yapılamadı ({error}).",
    history: "Hareketler",
    history_empty: "Hareket yok.",
    audit: "Yönetici işlemleri",
    audit_admin: "Yönetici: id, API anahtarı ya da cli",
    audit_user: "Kullanıcı id",
    audit_empty: "Kayıt yok.",
    apage: "Sayfa {page}/{pages} · {total} işlem",
    audit_by: "{actor} · {via}",
    audit_change: "önce {before} → sonra {after}",
    reason_registration: "Kayıt bonusu",
    reason_daily: "Günlük görev",
    reason_grant: "Ödül",
    reason_grant_for: "Ödül: {reason}",
    reason_convert: "XP → token çevrimi",
    reason_content: "Premium içerik: {title}",
    reason_quota_increase: "Kota artışı",
    reason_quota_decrease: "Kota düşüşü",
    reason_file_charge: "Dosya ücreti",
    reason_usage_remove: "Kullanım iadesi",
    reason_refund_file: "İade: dosya iletilemedi",
    reason_refund_content: "İade: {title} iletilemedi",
    reason_other: "Hareket",
    item_content: "Premium içerik",
    item_vip: "VIP statü",
    item_boost: "Görev boost'u",
    item_badge: "Koleksiyoncu rozeti",
    item_dm: "Öncelikli DM",
    token_unit: "token",
  },
  en: {
    title: "Admin dashboard",
    loading: "Loading…",
    denied: "This page is for admins only: open it from the bot with /dashboard or the menu button.",
    expired: "The session expired: open the dashboard from the bot again.",
    failed: "Could not load the figures; try again in a moment.",
    card_quota: "Total credit quota",
    card_used: "Credit used",
    card_available: "Credit available",
    card_active: "Active users",
    users_sub: "{users} registered · {credit} with a quota",
    economy: "Token economy",
    minted: "Minted",
    spent: "Spent",
    circulation: "In circulation",
    pending_xp: "XP not converted",
    by_item: "Spending by item",
    per_day: "Tokens per day (last 30 days)",
    earned: "Earned",
    spent_tokens: "Spent",
    top: "Top spenders",
    top_empty: "Nobody has spent anything yet.",
    gifts: "Gift flows (7 days)",
    gifts_empty: "No gifts in the last 7 days.",
    gifts_count: "{n} gifts",
    users: "Users with credit",
    search: "Search: id, @username or name",
    sort_used: "By used",
    sort_available: "By available",
    users_empty: "No users found.",
    page: "Page {page}/{pages} · {total} users",
    hpage: "Page {page}/{pages} · {total} entries",
    close: "Close",
    quota: "Quota",
    used: "Used",
    available: "Available",
    tokens: "Tokens",
    since: "Registered {when}",
    active: "active",
    inactive: "blocked the bot",
    vip: "VIP",
    badge: "Collector badge",
    boost: "Boost until {until}",
    dm: "Priority DM until {until}",
    content: "{n} premium content",
    no_perks: "No perks",
    amount: "Amount (TL)",
    raise: "Raise quota",
    lower: "Lower quota",
    refund: "Refund usage",
    confirm: "Confirm",
    cancel: "Cancel",
    ask_raise: "Raise the quota of {name} by {amount}?",
    ask_lower: "Lower the quota of {name} by {amount}?",
    ask_refund: "Refund {amount} of usage to {name}?",
    done_raise: "Quota raised by {amount}. Quota {quota} · used {used} · available {available}",
    done_lower: "Quota lowered by {amount}. Quota {quota} · used {used} · available {available}",
    done_refund: "Refunded {amount}. Quota {quota} · used {used} · available {available}",
    bad_amount: "Enter a plain positive number (TL, at most two decimals, e.g. 150 or 12.50).",
    err_QuotaBelowUsage: "The quota cannot go below what is used: quota {quota}, used {used}.",
    err_RefundTooLarge: "A refund cannot be more than is used: used {used}.",
    err_InvalidAmount: "Enter a plain positive number (TL, at most two decimals, e.g. 150 or 12.50).",
    err_NotFound: "User not found.",
    err_StorageBusy: "The database is busy; nothing was written, try again.",
    err_other: "That did not work ({error}).",
    history: "History",
    history_empty: "No entries.",
    audit: "Admin actions",
    audit_admin: "Admin: id, API key or cli",
    audit_user: "User id",
    audit_empty: "No actions.",
    apage: "Page {page}/{pages} · {total} actions",
    audit_by: "{actor} · {via}",
    audit_change: "before {before} → after {after}",
    reason_registration: "Registration bonus",
    reason_daily: "Daily task",
    reason_grant: "Reward",
    reason_grant_for: "Reward: {reason}",
    reason_convert: "XP → token conversion",
    reason_content: "Premium content: {title}",
    reason_quota_increase: "Quota raised",
    reason_quota_decrease: "Quota lowered",
    reason_file_charge: "File charge",
    reason_usage_remove: "Usage refund",
    reason_refund_file: "Refund: file not delivered",
    reason_refund_content: "Refund: {title} not delivered",
    reason_other: "Movement",
    item_content: "Premium content",
    item_vip: "VIP status",
    item_boost: "Task boost",
    item_badge: "Collector badge",
    item_dm: "Priority DM",
    token_unit: "tokens",
  },
};

Dash.lang = "tr";

/* t("key", {name: ...}): plain text (the page puts it in with textContent, never as HTML). */
Dash.t = function (key, values) {
  const table = Dash.TEXTS[Dash.lang] || Dash.TEXTS.tr;
  const text = table[key] !== undefined ? table[key] : key;
  return text.replace(/\{(\w+)\}/g, (m, k) => (values && values[k] !== undefined ? String(values[k]) : m));
};

Dash.number = function (n) {
  const digits = String(Math.abs(n)).replace(/\B(?=(\d{3})+(?!\d))/g, Dash.lang === "tr" ? "." : ",");
  return (n < 0 ? "-" : "") + digits;
};

/* Money as the server sends it, a string with two decimals as /api/v1 does ("-1234.56"), in
   kuruş (-123456); a number is taken as kuruş already. */
Dash.kurus = function (value) {
  if (typeof value === "number") return value;
  const m = /^(-?)([0-9]+)\.([0-9]{2})$/.exec(String(value));
  if (!m) return NaN;
  const k = Number(m[2]) * 100 + Number(m[3]);
  return m[1] ? -k : k;
};

/* TL as the bot writes it: "1234.56" (or kuruş 123456) -> "1.234,56 TL" (tr) or "1,234.56 TL" (en). */
Dash.money = function (value) {
  const kurus = Dash.kurus(value);
  const sign = kurus < 0 ? "-" : "";
  const abs = Math.abs(kurus);
  const cents = String(abs % 100).padStart(2, "0");
  return sign + Dash.number(Math.floor(abs / 100)) + (Dash.lang === "tr" ? "," : ".") + cents + " TL";
};

function pad2(n) { return String(n).padStart(2, "0"); }

/* Unix seconds as the bot writes them, in the community's zone (TIMEZONE, sent with the
   overview) with the zone named: 29.11.2026 17:05 GMT+3 (tr) or 2026-11-29 17:05 GMT+3 (en). */
Dash.zone = "UTC";
Dash.when = function (ts) {
  if (ts === null || ts === undefined) return "-";
  const parts = {};
  new Intl.DateTimeFormat("en-GB", { timeZone: Dash.zone, year: "numeric", month: "2-digit", day: "2-digit",
    hour: "2-digit", minute: "2-digit", hourCycle: "h23", timeZoneName: "short" })
    .formatToParts(new Date(ts * 1000)).forEach((p) => { parts[p.type] = p.value; });
  const time = parts.hour + ":" + parts.minute + " " + parts.timeZoneName;
  if (Dash.lang === "tr") return parts.day + "." + parts.month + "." + parts.year + " " + time;
  return parts.year + "-" + parts.month + "-" + parts.day + " " + time;
};

/* A day on a chart axis, in the community's zone: "29 Kas" / "Nov 29". */
Dash.day = function (ts) {
  return new Intl.DateTimeFormat(Dash.lang === "tr" ? "tr-TR" : "en-US",
    { day: "numeric", month: "short", timeZone: Dash.zone }).format(new Date(ts * 1000));
};
