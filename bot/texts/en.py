"""English texts (HTML). Placeholders are filled by bot.texts.Texts, which escapes them."""

TEXTS = {
    "yes": "yes",
    "no": "no",
    "item_content": "Premium content",
    "item_vip": "VIP status",
    "item_boost": "Task boost (2x daily XP)",
    "item_badge": "Collector badge",
    "item_dm": "Priority DM",
    # -- start, help --
    "start_new": "Welcome, <b>{name}</b>! You got <b>{bonus} XP</b> as a registration bonus.\n"
                 "Convert XP to tokens with /convert and spend them in the /shop.",
    "start_back": "Welcome back, <b>{name}</b>! You have <b>{xp} XP</b>.",
    "help": "<b>Commands</b>\n"
            "/balance – your XP, tokens and perks\n"
            "/daily – daily task: {daily} XP (2x with a boost), more on a streak\n"
            "/convert &lt;n|all&gt; – XP to tokens, 1:1\n"
            "/shop – what tokens buy\n"
            "/buy &lt;vip|boost|badge|dm|freeze&gt;, /buy content &lt;id&gt;\n"
            "/gift &lt;user&gt; &lt;tokens&gt; – give tokens\n"
            "/notify on|off – reminders\n"
            "/mycontent – your premium content again\n"
            "/history – your movements\n"
            "/top – top spenders\n"
            "/credits – your credit quota\n"
            "/support &lt;text&gt; – write to the admins\n"
            "Tokens are spent only here: they cannot be withdrawn or cashed out.",
    "help_admin": "\n\n<b>Admin</b> (private chat only)\n"
                  "/grant &lt;user&gt; &lt;xp&gt; [reason]\n"
                  "/quota &lt;user&gt; &lt;TL&gt; (or -&lt;TL&gt; to lower)\n"
                  "/charge &lt;user&gt; &lt;TL&gt; [note] – as a file's caption\n"
                  "/refund &lt;user&gt; &lt;TL&gt;\n"
                  "/user &lt;user&gt;, /users, /stats, /export, /inbox\n"
                  "/addcontent &lt;id&gt; [title] – as a file's caption\n"
                  "/reply &lt;user&gt; &lt;text&gt;\n"
                  "&lt;user&gt; is a numeric id or an @username.",
    "menu_balance": "💰 Balance",
    "menu_daily": "🎯 Daily task",
    "menu_shop": "🛒 Shop",
    "menu_convert": "🔁 Convert XP",
    "menu_history": "📜 History",
    "menu_top": "🏆 Top",
    # -- wallet --
    "balance": "<b>{name}</b>\nXP: <b>{xp}</b>\nTokens: <b>{tokens}</b>",
    "balance_vip": "⭐ VIP",
    "balance_badge": "🏅 Collector badge",
    "balance_boost": "⚡ Boost active until {until}",
    "balance_dm": "✉️ Priority DM until {until}",
    "balance_content": "🎬 Premium content: {count}",
    "balance_credit": "Credit: quota {quota}, used {used}, available <b>{available}</b>",
    "convert_ask": "How much XP do you want to convert to tokens? You have <b>{xp} XP</b>.",
    "convert_all": "All ({xp})",
    "convert_done": "Converted <b>{amount} XP</b> into <b>{amount} tokens</b>.\nXP: {xp} · Tokens: {tokens}",
    "daily_done": "Daily task done: <b>+{amount} XP</b>. You have {xp} XP.",
    "daily_boosted": "Daily task done with your boost: <b>+{amount} XP</b> (2x). You have {xp} XP.",
    "history_title": "<b>Your history</b> (page {page}/{pages})",
    "history_empty": "No movements yet.",
    "history_line": "{when} · {what} · <b>{delta}</b> {asset}",
    "charge_unrecorded_sent": "The file was sent to {name} and {amount} charged, but the database did not answer to"
                              " record the delivery; the bot keeps trying.",
    "charge_unrecorded_refund": "Could not deliver the file to {name}, and the database did not answer to record the"
                                " refund of {amount}; the bot keeps trying to refund it.",
    "content_refund_later": "I could not send you <b>{title}</b>; your {price} tokens will be returned as soon as"
                            " the database answers.",
    "delivery_by_hand": "its usage had already been refunded by hand",
    "user_card_pending": "⏳ Delivery pending: {amount} since {since} (transfer {id})",
    "reason_registration": "Registration bonus",
    "reason_daily": "Daily task",
    "reason_grant": "Reward",
    "reason_grant_for": "Reward: {reason}",
    "reason_convert": "XP → token conversion",
    "reason_content": "Premium content: {title}",
    "reason_quota_increase": "Quota raised",
    "reason_quota_decrease": "Quota lowered",
    "reason_file_charge": "File charge",
    "reason_usage_remove": "Usage refund",
    "reason_refund_file": "Refund: file not delivered",
    "reason_refund_content": "Refund: {title} not delivered",
    "history_note": " · 📝 {note}",
    "user_card_history": "<b>Last movements</b>",
    "user_card_audit": "<b>Last admin actions</b>",
    "audit_line": "{when} · {action} · {amount} · {by} ({via})",
    "history_imported": "📦 Imported from the old system: {reason}",
    "reason_legacy_open": "📦 Balance brought over from the old system",
    "reason_legacy_quota": "📦 Quota brought over from the old system",
    "reason_legacy_used": "📦 Credit used in the old system",
    "reason_other": "Movement",
    "prev": "◀️ Previous",
    "next": "Next ▶️",
    "top_title": "<b>Top spenders</b>",
    "top_line": "{rank}. {name}{vip} – {spent} tokens",
    "top_empty": "Nobody has spent tokens yet.",
    "credits": "<b>Your credit</b>\nQuota: {quota}\nUsed: {used}\nAvailable: <b>{available}</b>",
    "credits_none": "You have no credit quota yet.",
    # -- shop --
    "shop_title": "<b>Shop</b> – you have <b>{tokens} tokens</b>.\nTokens are spent only here.",
    "shop_line": "• {name}: <b>{price}</b> tokens{extra}",
    "shop_hours": " ({hours} h)",
    "shop_content_line": "• 🎬 {title} (<code>{id}</code>): <b>{price}</b> tokens",
    "shop_button": "{name} – {price}",
    "bought": "<b>{name}</b> bought for {price} tokens. Tokens left: <b>{tokens}</b>.",
    "bought_until": "<b>{name}</b> bought for {price} tokens, active until {until}. Tokens left: <b>{tokens}</b>.",
    "bought_content": "<b>{title}</b> bought for {price} tokens. Tokens left: <b>{tokens}</b>.",
    "bought_content_private": "<b>{title}</b> bought for {price} tokens; I sent it to you in our private chat."
                              " Tokens left: <b>{tokens}</b>.",
    "bought_content_kept": "<b>{title}</b> is yours ({price} tokens; tokens left: <b>{tokens}</b>). I cannot write"
                           " to you privately yet: open a private chat with me, press Start, then send /mycontent"
                           " to get it.",
    "content_refunded": "I could not send you <b>{title}</b> ({reason}), so nothing was charged: your {price}"
                        " tokens were returned. You can try again from /shop.",
    "content_pending": "<b>{title}</b> is on its way; if it does not arrive, send /mycontent.",
    "already_bought": "You already bought <b>{name}</b> from this message; nothing was charged again.",
    "buy_usage": "Usage: /buy vip, /buy boost, /buy badge, /buy dm, /buy freeze or /buy content &lt;id&gt;. See /shop.",
    "mycontent_empty": "You own no premium content yet. See /shop.",
    "mycontent_title": "Your premium content ({count}):",
    "mycontent_private": "I cannot write to you privately yet: open a private chat with me, press Start, then"
                         " send /mycontent there.",
    "content_caption": "🎬 {title}",
    # -- support --
    "support_usage": "Usage: /support &lt;your message&gt;",
    "support_sent": "Your message was sent to the admins.",
    "support_sent_priority": "Your message was sent to the admins as <b>priority</b>.",
    "support_to_admin": "{flag}Support #{id} from {name} (<code>{user}</code>):\n{text}\n\nAnswer: /reply {user} …",
    "priority_flag": "🔴 PRIORITY ",
    "admin_reply": "<b>Reply from the admins:</b>\n{text}",
    # -- notices to users from admins --
    "user_granted": "You received <b>{amount} XP</b>{reason}. You have {xp} XP.",
    "user_quota_raised": "Your credit quota was raised by {amount}. Available: <b>{available}</b>.",
    "user_quota_lowered": "Your credit quota was lowered by {amount}. Available: <b>{available}</b>.",
    "user_charged": "A file was charged to your credit: {amount}. Available: <b>{available}</b>.",
    "user_refunded": "{amount} was refunded to your credit. Available: <b>{available}</b>.",
    # -- admin --
    "usage_grant": "Usage: /grant &lt;user&gt; &lt;xp&gt; [reason]",
    "usage_quota": "Usage: /quota &lt;user&gt; &lt;TL&gt; to raise, /quota &lt;user&gt; -&lt;TL&gt; to lower",
    "usage_charge": "Send a document, photo or video with the caption /charge &lt;user&gt; &lt;TL&gt; [note].",
    "usage_refund": "Usage: /refund &lt;user&gt; &lt;TL&gt;",
    "usage_user": "Usage: /user &lt;user&gt;",
    "usage_addcontent": "Send a document, photo or video with the caption /addcontent &lt;id&gt; [title].",
    "usage_reply": "Usage: /reply &lt;user&gt; &lt;text&gt;",
    "granted": "Granted <b>{amount} XP</b> to {name}. Their XP: {xp}.",
    "quota_raised": "Quota of {name} raised by {amount}.\nQuota {quota} · used {used} · available <b>{available}</b>",
    "quota_lowered": "Quota of {name} lowered by {amount}.\nQuota {quota} · used {used} · available <b>{available}</b>",
    "charged": "Charged {amount} to {name} and sent the file.\nQuota {quota} · used {used} · available <b>{available}</b>",
    "charge_refunded": "Could not deliver the file to {name} ({reason}); nothing was charged: the {amount}"
                       " was refunded.",
    "charge_pending": "The file for {name} ({amount}) is still being delivered; /user shows the outcome shortly.",
    "refunded": "Refunded {amount} to {name}.\nQuota {quota} · used {used} · available <b>{available}</b>",
    "user_card": "<b>{name}</b> {username} (<code>{user}</code>)\nRegistered: {since} · active: {active}\n"
                 "XP {xp} · tokens {tokens}\nCredit: quota {quota} · used {used} · available <b>{available}</b>",
    "users_title": "<b>Credit users</b> ({total}) – {first}–{last}",
    "users_line": "<code>{user}</code> {name}: quota {quota} · used {used} · available {available}",
    "users_empty": "No user has a credit quota yet.",
    "stats": "<b>📊 Credit</b>\nTotal quota: {quota}\nUsed: {used}\nAvailable: <b>{available}</b>\n"
             "Users with a quota: {credit_users}\n\n"
             "<b>👥 Users</b>\nRegistered: {users} · active: {active}\n\n"
             "<b>🪙 Tokens</b>\nIn circulation: <b>{circulation}</b>\nMinted: {minted} · spent: {spent}\n"
             "XP outstanding: {xp}",
    "stats_item": "{name}: {spent}",
    "stats_top": "<b>🏆 Top spenders</b>",
    "export_caption": "The whole journal ({rows} rows) as CSV.",
    "export_audit_caption": "The audit trail ({rows} admin actions) as CSV, newest first.",
    "content_added": "Premium content <code>{id}</code> registered: {title} ({price} tokens).",
    "reply_sent": "Sent to {name}.",
    "inbox_title": "<b>Open support messages</b> ({count}) – {first}–{last}",
    "inbox_line": "{flag}#{id} <code>{user}</code> {when}: {text}",
    "inbox_empty": "No open support messages.",
    "delivery_blocked": "the user blocked the bot; marked inactive",
    "delivery_refused": "Telegram refused the delivery",
    "delivery_flood": "Telegram's flood limit for that chat",
    "delivery_unavailable": "Telegram did not answer after 3 tries",
    "delivery_failed": "Telegram refused the delivery",
    "reply_failed": "Could not send the message to {name}: {reason}.",
    # -- refusals --
    "no_tokens_item": "Not enough tokens: {name} costs {needed}, you have {available} ({short} short).",
    "no_tokens": "Not enough tokens: this needs {needed}, you have {available}.",
    "no_xp": "Not enough XP: you asked for {needed}, you have {available}. Earn XP with /daily.",
    "no_xp_at_all": "You have no XP to convert. Earn XP with /daily.",
    "quota_exceeded": "Credit limit would be exceeded: the charge is {amount}, quota {quota}, used {used},"
                      " available {available}. Nothing was charged or sent.",
    "refund_too_large": "Cannot refund {amount}: only {used} is used.",
    "quota_below_usage": "Cannot lower the quota by {amount}: quota {quota}, already used {used}.",
    "not_registered": "You are not registered yet: send /start first.",
    "no_user": "User {ref} not found: they must /start the bot first.",
    "no_content": "There is no premium content <code>{ref}</code>. See /shop.",
    "no_item": "There is no item <code>{ref}</code>. See /shop.",
    "already_owned": "You already own {name}; nothing was charged.",
    "already_claimed": "You already did today's task. Next one: {at}.",
    "already_exists": "Content <code>{ref}</code> already exists.",
    "bad_amount": "“{text}” is not a valid amount: give a plain positive number{money}.",
    "bad_amount_money": " (TL, at most two decimals, e.g. 150 or 12.50)",
    "bad_input": "“{text}” is not valid here.",
    "bad_text": "This text holds a character that cannot be stored (shown as �): “{text}”. Remove it and"
                " send it again; nothing was changed.",
    "unstorable": "The database could not store this request's data; nothing was changed. Check the text"
                  " and try again.",
    "conflict": "This request was already used for something else; nothing was changed.",
    "busy": "The service is busy right now; nothing was changed. Please try again in a moment.",
    "oops": "Sorry, something went wrong. Please try again.",
    "throttled": "Too many commands: please wait a little.",
    "unknown_command": "I don't know that command. See /help.",
    "stale_button": "This button is not valid (any more).",
    "admin_only": "This command is for admins.",
    "dashboard_open": "📊 The admin dashboard: cards, charts, users and credit actions.",
    "dashboard_button": "Open the dashboard",
    "dashboard_off": "The dashboard is not set up: set DASHBOARD_URL (its public https address) and restart the bot.",
    "on_behalf_of_chat": "Please write from your own account: messages sent on behalf of"
                         " a group or channel have no wallet here.",
    # -- streaks, gifts, reminders (issue 23) --
    'item_freeze': 'Streak freeze',
    'daily_streak': '🔥 Streak: day <b>{streak}</b>',
    'daily_bonus': ' · streak bonus <b>+{bonus} XP</b>',
    'daily_freeze_used': '🧊 {count} streak freeze(s) covered the day(s) you missed; {left} left.',
    'daily_streak_lost': 'Your {lost}-day streak ended; a new one starts today.',
    'daily_next': 'Next daily task: {at}',
    'balance_streak': '🔥 Streak: {streak} days{today}',
    'balance_streak_today': " (today's /daily done)",
    'balance_freezes': '🧊 Streak freezes: {count} of {most}',
    'reason_streak': 'Streak bonus, day {day}',
    'reason_gift_out': 'Gift to {who}',
    'reason_gift_in': 'Gift from {who}',
    'bought_freeze': '🧊 <b>Streak freeze</b> bought for {price} tokens: you hold {held}. Each covers one missed day of /daily, used by itself. Tokens left: <b>{tokens}</b>.',
    'freeze_limit': 'You already hold {held} streak freezes, the most allowed ({most}); nothing was charged.',
    'streak_ended': 'Your streak already ended ({missed} days missed); a freeze covers days to come, not a gap behind. Claim /daily to start a new streak, then buy one; nothing was charged.',
    'gift_usage': 'Usage: /gift &lt;user&gt; &lt;tokens&gt; (a numeric id or an @username), or reply to their message in a group with /gift &lt;tokens&gt;.',
    'gift_confirm': 'Give <b>{amount} tokens</b> to {name}? You have {tokens}.',
    'gift_confirm_button': '✅ Give {amount}',
    'gift_cancel_button': '✖️ Cancel',
    'gift_cancelled': 'Gift cancelled; nothing was sent.',
    'gift_sent': '🎁 You gave <b>{amount} tokens</b> to {name}. Tokens left: <b>{tokens}</b>. Given today: {sent} of {limit}.',
    'gift_already': 'This gift was already given; nothing was sent again.',
    'gift_received': '🎁 {name} gave you <b>{amount} tokens</b>. You have {tokens} tokens.',
    'gift_not_yours': 'This button belongs to whoever asked for the gift.',
    'gift_self': 'You cannot give tokens to yourself.',
    'gift_bot': 'Bots cannot receive tokens.',
    'gift_too_new': 'Gifts can be sent {limit} hours after you started the bot: {left} more hours.',
    'gift_send_limit': 'Gifts are limited to {limit} tokens a day; you can give {left} more today.',
    'gift_receive_limit': '{name} can receive at most {limit} tokens a day; {left} more today.',
    'gift_receive_limit_anon': 'The recipient can receive at most {limit} tokens a day; {left} more today.',
    'no_recipient': '{ref} has not started the bot, so they cannot receive tokens.',
    'notify_usage': 'Reminders are <b>{state}</b>. /notify off stops them, /notify on starts them again.',
    'notify_on': 'Reminders are on: an hour before a boost or priority DM ends, and in the evening when your streak would end.',
    'notify_off': 'Reminders are off. /notify on starts them again.',
    'state_on': 'on',
    'state_off': 'off',
    'reminder_boost': '⚡ Your task boost ends at {at}. Renew it in the /shop.',
    'reminder_dm': '✉️ Your priority DM ends at {at}. Renew it in the /shop.',
    'reminder_streak': '🔥 Your {streak}-day streak ends at {at} unless you do the /daily task before then.',
    'reminder_footer': '\n<i>/notify off stops reminders.</i>',
    'stats_gifts': '<b>🎁 Gift flows, last 7 days</b>',
    'stats_gift_line': '<code>{sender}</code> {sender_name} → <code>{recipient}</code> {recipient_name}: {amount} tokens in {gifts} gifts',
    'stats_gifts_none': 'No gifts in the last 7 days.',
    'stats_freezes': 'Streak freezes: {spent}',
}
