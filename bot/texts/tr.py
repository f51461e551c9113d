"""Türkçe metinler (HTML). Yer tutucular bot.texts.Texts tarafından kaçışlanarak doldurulur."""

TEXTS = {
    "yes": "evet",
    "no": "hayır",
    "item_content": "Premium içerik",
    "item_vip": "VIP statü",
    "item_boost": "Görev boost'u (2x günlük XP)",
    "item_badge": "Koleksiyoncu rozeti",
    "item_dm": "Öncelikli DM",
    # -- başlangıç, yardım --
    "start_new": "Hoş geldin, <b>{name}</b>! Kayıt bonusu olarak <b>{bonus} XP</b> kazandın.\n"
                 "XP'ni /convert ile tokene çevir, /shop'ta harca.",
    "start_back": "Tekrar hoş geldin, <b>{name}</b>! <b>{xp} XP</b>'n var.",
    "help": "<b>Komutlar</b>\n"
            "/balance – XP, token ve ayrıcalıkların\n"
            "/daily – günlük görev: {daily} XP (boost ile 2x), seride daha fazla\n"
            "/convert &lt;n|all&gt; – XP'yi tokene çevir, 1:1\n"
            "/shop – tokenle neler alınır\n"
            "/buy &lt;vip|boost|badge|dm|freeze&gt;, /buy content &lt;id&gt;\n"
            "/gift &lt;kullanıcı&gt; &lt;token&gt; – token hediye et\n"
            "/notify on|off – hatırlatmalar\n"
            "/mycontent – premium içeriklerin tekrar\n"
            "/history – hareketlerin\n"
            "/top – en çok harcayanlar\n"
            "/credits – kredi kotan\n"
            "/support &lt;metin&gt; – adminlere yaz\n"
            "Tokenler yalnızca burada harcanır: çekilemez, paraya çevrilemez.",
    "help_admin": "\n\n<b>Admin</b> (yalnızca özel sohbette)\n"
                  "/grant &lt;kullanıcı&gt; &lt;xp&gt; [sebep]\n"
                  "/quota &lt;kullanıcı&gt; &lt;TL&gt; (düşürmek için -&lt;TL&gt;)\n"
                  "/charge &lt;kullanıcı&gt; &lt;TL&gt; [not] – dosya açıklaması olarak\n"
                  "/refund &lt;kullanıcı&gt; &lt;TL&gt;\n"
                  "/user &lt;kullanıcı&gt;, /users, /stats, /export, /inbox\n"
                  "/addcontent &lt;id&gt; [başlık] – dosya açıklaması olarak\n"
                  "/reply &lt;kullanıcı&gt; &lt;metin&gt;\n"
                  "&lt;kullanıcı&gt; sayısal id ya da @kullanıcıadı.",
    "menu_balance": "💰 Bakiye",
    "menu_daily": "🎯 Günlük görev",
    "menu_shop": "🛒 Mağaza",
    "menu_convert": "🔁 XP çevir",
    "menu_history": "📜 Geçmiş",
    "menu_top": "🏆 Liderler",
    # -- cüzdan --
    "balance": "<b>{name}</b>\nXP: <b>{xp}</b>\nToken: <b>{tokens}</b>",
    "balance_vip": "⭐ VIP",
    "balance_badge": "🏅 Koleksiyoncu rozeti",
    "balance_boost": "⚡ Boost {until} tarihine kadar aktif",
    "balance_dm": "✉️ Öncelikli DM {until} tarihine kadar",
    "balance_content": "🎬 Premium içerik: {count}",
    "balance_credit": "Kredi: kota {quota}, kullanılan {used}, kalan <b>{available}</b>",
    "convert_ask": "Kaç XP'yi tokene çevirmek istersin? <b>{xp} XP</b>'n var.",
    "convert_all": "Hepsi ({xp})",
    "convert_done": "<b>{amount} XP</b> → <b>{amount} token</b> çevrildi.\nXP: {xp} · Token: {tokens}",
    "daily_done": "Günlük görev tamam: <b>+{amount} XP</b>. {xp} XP'n var.",
    "daily_boosted": "Günlük görev boost ile tamam: <b>+{amount} XP</b> (2x). {xp} XP'n var.",
    "history_title": "<b>Geçmişin</b> (sayfa {page}/{pages})",
    "history_empty": "Henüz hareket yok.",
    "history_line": "{when} · {what} · <b>{delta}</b> {asset}",
    "charge_unrecorded_sent": "Dosya {name} kullanıcısına gönderildi ve {amount} düşüldü, ama veritabanı teslimatı"
                              " kaydetmek için yanıt vermedi; bot denemeye devam ediyor.",
    "charge_unrecorded_refund": "Dosya {name} kullanıcısına iletilemedi ve veritabanı {amount} iadesini kaydetmek için"
                                " yanıt vermedi; bot iade etmeyi denemeye devam ediyor.",
    "content_refund_later": "<b>{title}</b> sana gönderilemedi; {price} tokenin veritabanı yanıt verir vermez iade"
                            " edilecek.",
    "delivery_by_hand": "kullanımı zaten elle iade edilmişti",
    "user_card_pending": "⏳ Bekleyen teslimat: {amount}, {since} tarihinden beri (transfer {id})",
    "reason_registration": "Kayıt bonusu",
    "reason_daily": "Günlük görev",
    "reason_grant": "Ödül",
    "reason_grant_for": "Ödül: {reason}",
    "reason_convert": "XP → token çevrimi",
    "reason_content": "Premium içerik: {title}",
    "reason_quota_increase": "Kota artışı",
    "reason_quota_decrease": "Kota düşüşü",
    "reason_file_charge": "Dosya ücreti",
    "reason_usage_remove": "Kullanım iadesi",
    "reason_refund_file": "İade: dosya iletilemedi",
    "reason_refund_content": "İade: {title} iletilemedi",
    "history_note": " · 📝 {note}",
    "user_card_history": "<b>Son hareketler</b>",
    "user_card_audit": "<b>Son yönetici işlemleri</b>",
    "audit_line": "{when} · {action} · {amount} · {by} ({via})",
    "history_imported": "📦 Eski sistemden aktarıldı: {reason}",
    "reason_legacy_open": "📦 Eski sistemden aktarılan bakiye",
    "reason_legacy_quota": "📦 Eski sistemden aktarılan kota",
    "reason_legacy_used": "📦 Eski sistemde kullanılan kredi",
    "reason_other": "Hareket",
    "prev": "◀️ Önceki",
    "next": "Sonraki ▶️",
    "top_title": "<b>En çok harcayanlar</b>",
    "top_line": "{rank}. {name}{vip} – {spent} token",
    "top_empty": "Henüz kimse token harcamadı.",
    "credits": "<b>Kredin</b>\nKota: {quota}\nKullanılan: {used}\nKalan: <b>{available}</b>",
    "credits_none": "Henüz kredi kotan yok.",
    # -- mağaza --
    "shop_title": "<b>Mağaza</b> – <b>{tokens} token</b>'ın var.\nTokenler yalnızca burada harcanır.",
    "shop_line": "• {name}: <b>{price}</b> token{extra}",
    "shop_hours": " ({hours} saat)",
    "shop_content_line": "• 🎬 {title} (<code>{id}</code>): <b>{price}</b> token",
    "shop_button": "{name} – {price}",
    "bought": "<b>{name}</b> {price} tokene alındı. Kalan token: <b>{tokens}</b>.",
    "bought_until": "<b>{name}</b> {price} tokene alındı, {until} tarihine kadar aktif. Kalan token: <b>{tokens}</b>.",
    "bought_content": "<b>{title}</b> {price} tokene alındı. Kalan token: <b>{tokens}</b>.",
    "bought_content_private": "<b>{title}</b> {price} tokene alındı; özel sohbetimize gönderdim."
                              " Kalan token: <b>{tokens}</b>.",
    "bought_content_kept": "<b>{title}</b> artık senin ({price} token; kalan token: <b>{tokens}</b>). Sana henüz"
                           " özelden yazamıyorum: benimle özel sohbet aç, Başlat'a bas, sonra /mycontent gönder.",
    "content_refunded": "<b>{title}</b> sana gönderilemedi ({reason}); ücret alınmadı: {price} tokenin iade"
                        " edildi. /shop üzerinden yeniden deneyebilirsin.",
    "content_pending": "<b>{title}</b> yolda; gelmezse /mycontent gönder.",
    "already_bought": "<b>{name}</b> bu mesajdan zaten alındı; tekrar ücret alınmadı.",
    "buy_usage": "Kullanım: /buy vip, /buy boost, /buy badge, /buy dm, /buy freeze ya da /buy content &lt;id&gt;. Bkz. /shop.",
    "mycontent_empty": "Henüz premium içeriğin yok. Bkz. /shop.",
    "mycontent_title": "Premium içeriklerin ({count}):",
    "mycontent_private": "Sana henüz özelden yazamıyorum: benimle özel sohbet aç, Başlat'a bas, sonra orada"
                         " /mycontent gönder.",
    "content_caption": "🎬 {title}",
    # -- destek --
    "support_usage": "Kullanım: /support &lt;mesajın&gt;",
    "support_sent": "Mesajın adminlere iletildi.",
    "support_sent_priority": "Mesajın adminlere <b>öncelikli</b> olarak iletildi.",
    "support_to_admin": "{flag}Destek #{id}, {name} (<code>{user}</code>):\n{text}\n\nYanıt: /reply {user} …",
    "priority_flag": "🔴 ÖNCELİKLİ ",
    "admin_reply": "<b>Adminlerden yanıt:</b>\n{text}",
    # -- adminden kullanıcıya bildirimler --
    "user_granted": "<b>{amount} XP</b> kazandın{reason}. {xp} XP'n var.",
    "user_quota_raised": "Kredi kotan {amount} artırıldı. Kalan: <b>{available}</b>.",
    "user_quota_lowered": "Kredi kotan {amount} düşürüldü. Kalan: <b>{available}</b>.",
    "user_charged": "Kredine bir dosya ücreti yansıdı: {amount}. Kalan: <b>{available}</b>.",
    "user_refunded": "Kredine {amount} iade edildi. Kalan: <b>{available}</b>.",
    # -- admin --
    "usage_grant": "Kullanım: /grant &lt;kullanıcı&gt; &lt;xp&gt; [sebep]",
    "usage_quota": "Kullanım: artırmak için /quota &lt;kullanıcı&gt; &lt;TL&gt;, düşürmek için /quota &lt;kullanıcı&gt; -&lt;TL&gt;",
    "usage_charge": "Açıklaması /charge &lt;kullanıcı&gt; &lt;TL&gt; [not] olan bir belge, fotoğraf ya da video gönder.",
    "usage_refund": "Kullanım: /refund &lt;kullanıcı&gt; &lt;TL&gt;",
    "usage_user": "Kullanım: /user &lt;kullanıcı&gt;",
    "usage_addcontent": "Açıklaması /addcontent &lt;id&gt; [başlık] olan bir belge, fotoğraf ya da video gönder.",
    "usage_reply": "Kullanım: /reply &lt;kullanıcı&gt; &lt;metin&gt;",
    "granted": "{name} kullanıcısına <b>{amount} XP</b> verildi. XP'si: {xp}.",
    "quota_raised": "{name} kotası {amount} artırıldı.\nKota {quota} · kullanılan {used} · kalan <b>{available}</b>",
    "quota_lowered": "{name} kotası {amount} düşürüldü.\nKota {quota} · kullanılan {used} · kalan <b>{available}</b>",
    "charged": "{name} kullanıcısından {amount} düşüldü ve dosya gönderildi.\n"
               "Kota {quota} · kullanılan {used} · kalan <b>{available}</b>",
    "charge_refunded": "Dosya {name} kullanıcısına iletilemedi ({reason}); ücret alınmadı: {amount} iade"
                       " edildi.",
    "charge_pending": "{name} için dosya ({amount}) hâlâ iletiliyor; sonucu birazdan /user gösterir.",
    "refunded": "{name} kullanıcısına {amount} iade edildi.\nKota {quota} · kullanılan {used} · kalan <b>{available}</b>",
    "user_card": "<b>{name}</b> {username} (<code>{user}</code>)\nKayıt: {since} · aktif: {active}\n"
                 "XP {xp} · token {tokens}\nKredi: kota {quota} · kullanılan {used} · kalan <b>{available}</b>",
    "users_title": "<b>Kredili kullanıcılar</b> ({total}) – {first}–{last}",
    "users_line": "<code>{user}</code> {name}: kota {quota} · kullanılan {used} · kalan {available}",
    "users_empty": "Henüz kredi kotası olan kullanıcı yok.",
    "stats": "<b>📊 Kredi</b>\nToplam kota: {quota}\nKullanılan: {used}\nKalan: <b>{available}</b>\n"
             "Kotası olan kullanıcı: {credit_users}\n\n"
             "<b>👥 Kullanıcılar</b>\nKayıtlı: {users} · aktif: {active}\n\n"
             "<b>🪙 Token</b>\nDolaşımda: <b>{circulation}</b>\nBasılan: {minted} · harcanan: {spent}\n"
             "Bekleyen XP: {xp}",
    "stats_item": "{name}: {spent}",
    "stats_top": "<b>🏆 En çok harcayanlar</b>",
    "export_caption": "Tüm hareket defteri ({rows} satır), CSV.",
    "export_audit_caption": "Denetim kaydı ({rows} yönetici işlemi), CSV, en yenisi önce.",
    "content_added": "Premium içerik <code>{id}</code> kaydedildi: {title} ({price} token).",
    "reply_sent": "{name} kullanıcısına gönderildi.",
    "inbox_title": "<b>Açık destek mesajları</b> ({count}) – {first}–{last}",
    "inbox_line": "{flag}#{id} <code>{user}</code> {when}: {text}",
    "inbox_empty": "Açık destek mesajı yok.",
    "delivery_blocked": "kullanıcı botu engellemiş; pasif olarak işaretlendi",
    "delivery_refused": "Telegram gönderimi reddetti",
    "delivery_flood": "Telegram'ın bu sohbet için hız sınırı",
    "delivery_unavailable": "Telegram 3 denemede yanıt vermedi",
    "delivery_failed": "Telegram gönderimi reddetti",
    "reply_failed": "Mesaj {name} kullanıcısına gönderilemedi: {reason}.",
    # -- retler --
    "no_tokens_item": "Yetersiz token: {name} {needed} token, sende {available} var ({short} eksik).",
    "no_tokens": "Yetersiz token: {needed} gerekli, sende {available} var.",
    "no_xp": "Yetersiz XP: {needed} istedin, sende {available} var. /daily ile XP kazan.",
    "no_xp_at_all": "Çevrilecek XP'n yok. /daily ile XP kazan.",
    "quota_exceeded": "Kredi limiti aşılır: ücret {amount}, kota {quota}, kullanılan {used}, kalan {available}."
                      " Hiçbir ücret alınmadı, dosya gönderilmedi.",
    "refund_too_large": "{amount} iade edilemez: yalnızca {used} kullanılmış.",
    "quota_below_usage": "Kota {amount} düşürülemez: kota {quota}, kullanılan {used}.",
    "not_registered": "Henüz kayıtlı değilsin: önce /start gönder.",
    "no_user": "{ref} kullanıcısı bulunamadı: önce botu /start ile başlatmalı.",
    "no_content": "<code>{ref}</code> adlı premium içerik yok. Bkz. /shop.",
    "no_item": "<code>{ref}</code> adlı ürün yok. Bkz. /shop.",
    "already_owned": "{name} zaten sende; ücret alınmadı.",
    "already_claimed": "Bugünkü görevi zaten yaptın. Sonraki: {at}.",
    "already_exists": "<code>{ref}</code> içeriği zaten var.",
    "bad_amount": "“{text}” geçerli bir miktar değil: düz, pozitif bir sayı yaz{money}.",
    "bad_amount_money": " (TL, en fazla iki ondalık, ör. 150 ya da 12,50)",
    "bad_input": "“{text}” burada geçerli değil.",
    "bad_text": "Bu metinde saklanamayan bir karakter var (� olarak gösterildi): “{text}”. Onu çıkarıp"
                " tekrar gönder; hiçbir şey değişmedi.",
    "unstorable": "Bu isteğin verisi veritabanına kaydedilemedi; hiçbir şey değişmedi. Metni kontrol edip"
                  " tekrar dene.",
    "conflict": "Bu istek daha önce başka bir iş için kullanıldı; hiçbir şey değişmedi.",
    "busy": "Sistem şu an meşgul; hiçbir şey değişmedi. Lütfen biraz sonra tekrar dene.",
    "oops": "Üzgünüz, bir şeyler ters gitti. Lütfen tekrar dene.",
    "throttled": "Çok fazla komut: lütfen biraz bekle.",
    "unknown_command": "Bu komutu bilmiyorum. Bkz. /help.",
    "stale_button": "Bu düğme geçerli değil (artık).",
    "admin_only": "Bu komut adminler içindir.",
    "dashboard_open": "📊 Yönetim paneli: kartlar, grafikler, kullanıcılar ve kredi işlemleri.",
    "dashboard_button": "Paneli aç",
    "dashboard_off": "Panel kurulmamış: DASHBOARD_URL'i (herkese açık https adresi) ayarlayıp botu yeniden başlatın.",
    "on_behalf_of_chat": "Lütfen kendi hesabından yaz: bir grup ya da kanal adına"
                         " gönderilen mesajların burada cüzdanı yok.",
    # -- streaks, gifts, reminders (issue 23) --
    'item_freeze': 'Seri dondurucu',
    'daily_streak': '🔥 Seri: <b>{streak}</b>. gün',
    'daily_bonus': ' · seri bonusu <b>+{bonus} XP</b>',
    'daily_freeze_used': '🧊 {count} seri dondurucu kaçırdığın gün(ler)i kapattı; {left} kaldı.',
    'daily_streak_lost': '{lost} günlük serin bitti; bugün yeni bir seri başlıyor.',
    'daily_next': 'Sonraki günlük görev: {at}',
    'balance_streak': '🔥 Seri: {streak} gün{today}',
    'balance_streak_today': ' (bugünkü /daily tamam)',
    'balance_freezes': '🧊 Seri dondurucu: {count}/{most}',
    'reason_streak': 'Seri bonusu, {day}. gün',
    'reason_gift_out': 'Hediye: {who} kişisine',
    'reason_gift_in': 'Hediye: {who} kişisinden',
    'bought_freeze': '🧊 <b>Seri dondurucu</b> {price} tokene alındı: {held} tane var. Her biri kaçırılan bir /daily gününü kendiliğinden kapatır. Kalan token: <b>{tokens}</b>.',
    'freeze_limit': 'Zaten {held} seri dondurucun var, en fazla {most} olabilir; ücret alınmadı.',
    'streak_ended': 'Serin zaten bitti ({missed} gün kaçırıldı); dondurucu geçmiş boşluğu değil, gelecek günleri korur. Yeni seri için /daily al, sonra dondurucu satın al; ücret alınmadı.',
    'gift_usage': 'Kullanım: /gift &lt;kullanıcı&gt; &lt;token&gt; (sayısal id ya da @kullanıcıadı) ya da grupta birinin mesajına /gift &lt;token&gt; ile yanıt ver.',
    'gift_confirm': '{name} kişisine <b>{amount} token</b> hediye edilsin mi? {tokens} tokenin var.',
    'gift_confirm_button': '✅ {amount} ver',
    'gift_cancel_button': '✖️ Vazgeç',
    'gift_cancelled': 'Hediye iptal edildi; bir şey gönderilmedi.',
    'gift_sent': '🎁 {name} kişisine <b>{amount} token</b> verdin. Kalan token: <b>{tokens}</b>. Bugün verilen: {sent}/{limit}.',
    'gift_already': 'Bu hediye zaten verildi; tekrar gönderilmedi.',
    'gift_received': '🎁 {name} sana <b>{amount} token</b> hediye etti. {tokens} tokenin var.',
    'gift_not_yours': 'Bu düğme hediyeyi isteyen kişiye ait.',
    'gift_self': 'Kendine token hediye edemezsin.',
    'gift_bot': 'Botlar token alamaz.',
    'gift_too_new': 'Hediye, botu başlattıktan {limit} saat sonra gönderilebilir: {left} saat kaldı.',
    'gift_send_limit': 'Günde en fazla {limit} token hediye edilebilir; bugün {left} daha verebilirsin.',
    'gift_receive_limit': '{name} günde en fazla {limit} token alabilir; bugün {left} daha.',
    'gift_receive_limit_anon': 'Alıcı günde en fazla {limit} token alabilir; bugün {left} daha.',
    'no_recipient': '{ref} botu başlatmamış, bu yüzden token alamaz.',
    'notify_usage': 'Hatırlatmalar <b>{state}</b>. /notify off kapatır, /notify on yeniden açar.',
    'notify_on': 'Hatırlatmalar açık: boost ya da öncelikli DM bitmeden bir saat önce, serin bitecekken de akşam.',
    'notify_off': 'Hatırlatmalar kapalı. /notify on yeniden açar.',
    'state_on': 'açık',
    'state_off': 'kapalı',
    'reminder_boost': "⚡ Görev boost'un {at} saatinde bitiyor. /shop'tan yenileyebilirsin.",
    'reminder_dm': "✉️ Öncelikli DM'in {at} saatinde bitiyor. /shop'tan yenileyebilirsin.",
    'reminder_streak': '🔥 {streak} günlük serin {at} saatinde bitecek; o zamana kadar /daily görevini yap.',
    'reminder_footer': '\n<i>/notify off hatırlatmaları kapatır.</i>',
    'stats_gifts': '<b>🎁 Hediye akışları, son 7 gün</b>',
    'stats_gift_line': '<code>{sender}</code> {sender_name} → <code>{recipient}</code> {recipient_name}: {gifts} hediyede {amount} token',
    'stats_gifts_none': 'Son 7 günde hediye yok.',
    'stats_freezes': 'Seri dondurucu: {spent}',
}
