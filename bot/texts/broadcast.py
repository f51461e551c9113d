"""The broadcast texts (HTML), per language; merged into the catalogs by bot.texts."""

EN = {
    "usage_broadcast": "Usage: /broadcast &lt;segment&gt; &lt;text&gt; (or a photo, document or video with that"
                       " caption)\nSegments: all, vip, quota, active7, tr, en\n/broadcast status — the last"
                       " broadcasts\n/broadcast cancel &lt;id&gt; — stop one",
    "bc_empty": "Nothing to send: write the message after the segment.",
    "bc_preview": "<b>Broadcast #{id}</b> to <b>{segment}</b>: {total} recipients.\nThe message above is what"
                  " they will see. Send it?",
    "bc_nobody": "<b>Broadcast #{id}</b> to <b>{segment}</b>: nobody to send to.",
    "bc_send": "✅ Send",
    "bc_cancel": "✖️ Cancel",
    "bc_draft": "<b>Broadcast #{id}</b> to {segment}: not sent yet ({total} recipients).",
    "bc_progress": "<b>Broadcast #{id}</b> to {segment}: sending… {done} of {total}\nreached {sent} · blocked"
                   " {blocked} · failed {failed} · unknown {unknown}",
    "bc_done": "<b>Broadcast #{id}</b> to {segment} finished: {total} recipients\nreached {sent} · blocked"
               " {blocked} · failed {failed} · unknown {unknown}",
    "bc_cancelled": "<b>Broadcast #{id}</b> to {segment} cancelled: {done} of {total} handled\nreached {sent} ·"
                    " blocked {blocked} · failed {failed} · unknown {unknown} · not sent {pending}",
    "bc_none": "No broadcasts yet.",
    "bc_not_found": "There is no broadcast #{id}.",
    "bc_caption_too_long": "A caption may hold {limit} characters when the bot sends it; this one has {length}."
                           " Shorten it, or send the text alone. Nothing was prepared.",
    "bc_already": "Broadcast #{id} is already {state}.",
}

TR = {
    "usage_broadcast": "Kullanım: /broadcast &lt;segment&gt; &lt;metin&gt; (ya da bu açıklamayla bir fotoğraf,"
                       " belge veya video)\nSegmentler: all, vip, quota, active7, tr, en\n/broadcast status — son"
                       " duyurular\n/broadcast cancel &lt;id&gt; — birini durdur",
    "bc_empty": "Gönderilecek bir şey yok: mesajı segmentten sonra yaz.",
    "bc_preview": "<b>Duyuru #{id}</b> → <b>{segment}</b>: {total} alıcı.\nYukarıdaki mesaj, alıcıların göreceği"
                  " haliyle. Gönderilsin mi?",
    "bc_nobody": "<b>Duyuru #{id}</b> → <b>{segment}</b>: gönderilecek kimse yok.",
    "bc_send": "✅ Gönder",
    "bc_cancel": "✖️ İptal",
    "bc_draft": "<b>Duyuru #{id}</b> → {segment}: henüz gönderilmedi ({total} alıcı).",
    "bc_progress": "<b>Duyuru #{id}</b> → {segment}: gönderiliyor… {done} / {total}\nulaştı {sent} · engelledi"
                   " {blocked} · başarısız {failed} · belirsiz {unknown}",
    "bc_done": "<b>Duyuru #{id}</b> → {segment} tamamlandı: {total} alıcı\nulaştı {sent} · engelledi {blocked} ·"
               " başarısız {failed} · belirsiz {unknown}",
    "bc_cancelled": "<b>Duyuru #{id}</b> → {segment} iptal edildi: {done} / {total} işlendi\nulaştı {sent} ·"
                    " engelledi {blocked} · başarısız {failed} · belirsiz {unknown} · gönderilmedi {pending}",
    "bc_none": "Henüz duyuru yok.",
    "bc_not_found": "#{id} numaralı duyuru yok.",
    "bc_caption_too_long": "Bot bir açıklamada en fazla {limit} karakter gönderebilir; bu açıklama {length}"
                           " karakter. Kısalt ya da metni tek başına gönder. Hiçbir şey hazırlanmadı.",
    "bc_already": "Duyuru #{id} zaten {state}.",
}
