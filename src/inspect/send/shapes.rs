//! The body and headers of one delivery in each provider's own shape, for `hookbench send`.
//!
//! Written from each provider's documentation (cited, with the date read, in
//! `docs/providers.md`, section "`hookbench send`: delivery shapes"); the values are invented
//! (ids are random in each provider's id format, names and amounts are made up). Each provider
//! has a default event and a few known ones with a full object; any other event type gets the
//! provider's envelope around a small generic object (an assumption: the real object depends on
//! the type), except for Twilio and Discord, whose kinds are a closed list.
//!
//! Only the shape is made here; signing is the signing module's (`send` signs what this
//! returns). The headers listed here are the provider's own besides the signature ones, in the
//! order hookbench sends them (providers do not document an order).

use crate::inspect::verify::Scheme;
use rand::Rng;
use serde_json::{json, Value};

/// One delivery before signing.
#[derive(Debug, Clone)]
pub struct Shaped {
    /// The delivery id the scheme's id header carries (and Standard Webhooks signs): Stripe's
    /// event id, GitHub's delivery GUID, Shopify's webhook id, Twilio's idempotency token,
    /// Standard Webhooks' `msg_…`; Slack's `event_id` and Discord's interaction id (which
    /// travel in the body only).
    pub id: String,
    /// Headers besides the signature, timestamp and id headers, in sending order.
    pub headers: Vec<(&'static str, String)>,
    /// The body as sent.
    pub body: Vec<u8>,
}

/// The event each provider sends when `--event` is not given.
pub fn default_event(scheme: Scheme) -> &'static str {
    match scheme {
        Scheme::StandardWebhooks => "user.created",
        Scheme::Stripe => "payment_intent.succeeded",
        Scheme::Github => "push",
        Scheme::Shopify => "orders/create",
        Scheme::Slack => "app_mention",
        Scheme::Twilio => "sms",
        Scheme::Discord => "ping",
    }
}

/// The events with a full object (others get a generic one where the provider allows it).
pub fn known_events(scheme: Scheme) -> &'static [&'static str] {
    match scheme {
        Scheme::StandardWebhooks => &["user.created", "invoice.paid"],
        Scheme::Stripe => &[
            "payment_intent.succeeded",
            "customer.created",
            "invoice.paid",
        ],
        Scheme::Github => &["push", "issues", "ping"],
        Scheme::Shopify => &["orders/create", "products/update", "customers/create"],
        Scheme::Slack => &[
            "app_mention",
            "message",
            "reaction_added",
            "url_verification",
        ],
        Scheme::Twilio => &["sms", "status"],
        Scheme::Discord => &["ping", "command"],
    }
}

/// Checks `event` for `scheme`: Twilio and Discord take only their known kinds; the others
/// take any non-blank type of visible ASCII (it goes into a header or the body).
pub fn check_event(scheme: Scheme, event: &str) -> Result<(), String> {
    let known = known_events(scheme);
    if known.contains(&event) {
        return Ok(());
    }
    let list = known.join(", ");
    if matches!(scheme, Scheme::Twilio | Scheme::Discord) {
        return Err(format!("--event `{event}`: {scheme} sends one of: {list}"));
    }
    if event.is_empty() || event.len() > 100 || !event.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(format!(
            "--event `{event}`: expected a type of 1 to 100 visible ASCII characters, like {list}"
        ));
    }
    Ok(())
}

const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const UPPER_DIGITS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

fn pick(rng: &mut impl Rng, set: &[u8], n: usize) -> String {
    (0..n)
        .map(|_| set[rng.random_range(0..set.len())] as char)
        .collect()
}

fn hex(rng: &mut impl Rng, n: usize) -> String {
    pick(rng, b"0123456789abcdef", n)
}

/// A random version-4 UUID, lower-case.
fn uuid(rng: &mut impl Rng) -> String {
    let mut b: [u8; 16] = rng.random();
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex::encode(b);
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

/// A Discord snowflake for `now_s`: milliseconds since 2015-01-01 shifted left 22 bits, random
/// low bits.
fn snowflake(rng: &mut impl Rng, now_s: i64) -> String {
    const DISCORD_EPOCH_MS: i64 = 1_420_070_400_000;
    let ms = (now_s * 1000 - DISCORD_EPOCH_MS).max(0) as u64;
    ((ms << 22) | rng.random_range(0..1u64 << 22)).to_string()
}

/// Unix seconds as `YYYY-MM-DDTHH:MM:SS` (UTC, no zone), by the days-to-civil algorithm.
fn civil(now_s: i64) -> String {
    let days = now_s.div_euclid(86_400);
    let secs = now_s.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

/// `YYYY-MM-DDTHH:MM:SSZ`.
pub fn rfc3339(now_s: i64) -> String {
    format!("{}Z", civil(now_s))
}

/// One delivery of `event` (checked by [`check_event`]) in `scheme`'s shape; `seq` numbers
/// the deliveries of one run from 1 (it shows in texts and order numbers), `now_s` is the
/// send time (unix seconds).
pub fn shape(scheme: Scheme, event: &str, seq: u64, now_s: i64, rng: &mut impl Rng) -> Shaped {
    match scheme {
        Scheme::StandardWebhooks => standard(event, now_s, rng),
        Scheme::Stripe => stripe(event, now_s, rng),
        Scheme::Github => github(event, seq, now_s, rng),
        Scheme::Shopify => shopify(event, seq, now_s, rng),
        Scheme::Slack => slack(event, seq, now_s, rng),
        Scheme::Twilio => twilio(event, seq, rng),
        Scheme::Discord => discord(event, seq, now_s, rng),
    }
}

fn json_body(v: &Value) -> Vec<u8> {
    serde_json::to_vec(v).expect("a JSON value serialises")
}

/// Standard Webhooks: `{type, timestamp, data}` (the specification's payload structure).
fn standard(event: &str, now_s: i64, rng: &mut impl Rng) -> Shaped {
    let id = uuid(rng);
    let data = match event {
        "user.created" => json!({
            "id": id,
            "type": "user",
            "email": "ada@example.com",
            "name": "Ada Lovelace",
            "created_at": rfc3339(now_s),
        }),
        "invoice.paid" => json!({
            "id": id,
            "type": "invoice",
            "amount": 4200,
            "currency": "EUR",
            "status": "paid",
        }),
        _ => json!({ "id": id }),
    };
    let body = json!({
        "type": event,
        "timestamp": format!("{}.{:06}Z", civil(now_s), rng.random_range(0..1_000_000)),
        "data": data,
    });
    Shaped {
        id: format!("msg_{}", pick(rng, ALNUM, 27)),
        headers: vec![("content-type", "application/json".into())],
        body: json_body(&body),
    }
}

/// Stripe: an Event object around the changed object in `data.object`.
fn stripe(event: &str, now_s: i64, rng: &mut impl Rng) -> Shaped {
    let id = format!("evt_{}", pick(rng, ALNUM, 24));
    let customer = format!("cus_{}", pick(rng, ALNUM, 14));
    let object = match event {
        "payment_intent.succeeded" => json!({
            "id": format!("pi_{}", pick(rng, ALNUM, 24)),
            "object": "payment_intent",
            "amount": 2000,
            "amount_received": 2000,
            "currency": "usd",
            "customer": customer,
            "created": now_s,
            "livemode": false,
            "metadata": {},
            "payment_method": format!("pm_{}", pick(rng, ALNUM, 24)),
            "status": "succeeded",
        }),
        "customer.created" => json!({
            "id": customer,
            "object": "customer",
            "created": now_s,
            "email": "jenny@example.com",
            "name": "Jenny Rosen",
            "livemode": false,
            "metadata": {},
        }),
        "invoice.paid" => json!({
            "id": format!("in_{}", pick(rng, ALNUM, 24)),
            "object": "invoice",
            "amount_due": 1500,
            "amount_paid": 1500,
            "currency": "usd",
            "customer": customer,
            "status": "paid",
            "created": now_s,
            "livemode": false,
        }),
        other => {
            // Assumption: the object is named by the type without its last part
            // (`charge.refunded` → `charge`).
            let name = other.rsplit_once('.').map_or(other, |(o, _)| o);
            json!({
                "id": format!("obj_{}", pick(rng, ALNUM, 24)),
                "object": name.rsplit('.').next().unwrap_or(name),
                "created": now_s,
                "livemode": false,
            })
        }
    };
    let body = json!({
        "id": id,
        "object": "event",
        "api_version": "2024-06-20",
        "created": now_s,
        "data": { "object": object },
        "livemode": false,
        "pending_webhooks": 1,
        "request": { "id": format!("req_{}", pick(rng, ALNUM, 14)), "idempotency_key": uuid(rng) },
        "type": event,
    });
    Shaped {
        id,
        headers: vec![
            ("content-type", "application/json; charset=utf-8".into()),
            (
                "user-agent",
                "Stripe/1.0 (+https://stripe.com/docs/webhooks)".into(),
            ),
        ],
        body: json_body(&body),
    }
}

/// GitHub: the event's payload with `repository` and `sender`; the event name travels in
/// `X-GitHub-Event`.
fn github(event: &str, seq: u64, now_s: i64, rng: &mut impl Rng) -> Shaped {
    let user = json!({
        "login": "hookbench-dev",
        "id": 90_210_001,
        "type": "User",
        "site_admin": false,
        "html_url": "https://github.com/hookbench-dev",
    });
    let repo = json!({
        "id": 700_100_200,
        "name": "demo",
        "full_name": "hookbench-dev/demo",
        "private": false,
        "owner": user,
        "html_url": "https://github.com/hookbench-dev/demo",
        "default_branch": "main",
    });
    let hook_id = 480_000_000 + rng.random_range(0..1_000_000u64);
    let body = match event {
        "push" => {
            let (before, after) = (hex(rng, 40), hex(rng, 40));
            let commit = json!({
                "id": after,
                "tree_id": hex(rng, 40),
                "distinct": true,
                "message": format!("Update notes (hookbench send #{seq})"),
                "timestamp": rfc3339(now_s),
                "url": format!("https://github.com/hookbench-dev/demo/commit/{after}"),
                "author": { "name": "Hookbench Dev", "email": "dev@example.com", "username": "hookbench-dev" },
                "committer": { "name": "Hookbench Dev", "email": "dev@example.com", "username": "hookbench-dev" },
                "added": [],
                "removed": [],
                "modified": ["NOTES.md"],
            });
            json!({
                "ref": "refs/heads/main",
                "before": before,
                "after": after,
                "repository": repo,
                "pusher": { "name": "hookbench-dev", "email": "dev@example.com" },
                "sender": user,
                "created": false,
                "deleted": false,
                "forced": false,
                "base_ref": null,
                "compare": format!("https://github.com/hookbench-dev/demo/compare/{}...{}", &before[..12], &after[..12]),
                "commits": [commit],
                "head_commit": commit,
            })
        }
        "issues" => json!({
            "action": "opened",
            "issue": {
                "id": 2_000_000_000u64 + seq,
                "number": seq,
                "title": format!("Delivery #{seq} from hookbench send"),
                "state": "open",
                "user": user,
                "body": "Opened by a test delivery.",
                "created_at": rfc3339(now_s),
                "updated_at": rfc3339(now_s),
            },
            "repository": repo,
            "sender": user,
        }),
        "ping" => json!({
            "zen": "Approachable is better than simple.",
            "hook_id": hook_id,
            "hook": {
                "type": "Repository",
                "id": hook_id,
                "name": "web",
                "active": true,
                "events": ["push", "issues"],
                "config": { "content_type": "json", "insecure_ssl": "0" },
            },
            "repository": repo,
            "sender": user,
        }),
        _ => json!({ "action": "created", "repository": repo, "sender": user }),
    };
    Shaped {
        id: uuid(rng),
        headers: vec![
            ("content-type", "application/json".into()),
            ("user-agent", format!("GitHub-Hookshot/{}", hex(rng, 7))),
            ("x-github-event", event.to_string()),
            ("x-github-hook-id", hook_id.to_string()),
            ("x-github-hook-installation-target-id", "700100200".into()),
            (
                "x-github-hook-installation-target-type",
                "repository".into(),
            ),
        ],
        body: json_body(&body),
    }
}

/// Shopify: the resource itself as the body; the topic travels in `X-Shopify-Topic`.
fn shopify(event: &str, seq: u64, now_s: i64, rng: &mut impl Rng) -> Shaped {
    let at = format!("{}+00:00", civil(now_s));
    let id: u64 = rng.random_range(5_000_000_000_000..6_000_000_000_000);
    let gid = |kind: &str| format!("gid://shopify/{kind}/{id}");
    let customer = json!({
        "id": id + 1,
        "email": "ada@example.com",
        "first_name": "Ada",
        "last_name": "Lovelace",
    });
    let body = match event {
        "orders/create" => json!({
            "id": id,
            "admin_graphql_api_id": gid("Order"),
            "email": "ada@example.com",
            "created_at": at,
            "updated_at": at,
            "currency": "USD",
            "financial_status": "paid",
            "fulfillment_status": null,
            "name": format!("#{}", 1000 + seq),
            "order_number": 1000 + seq,
            "subtotal_price": "49.00",
            "total_tax": "4.90",
            "total_price": "53.90",
            "line_items": [{
                "id": id + 2,
                "product_id": id + 3,
                "variant_id": id + 4,
                "title": "Wool socks",
                "quantity": 2,
                "price": "24.50",
                "sku": "SOCK-WOOL-M",
            }],
            "customer": customer,
        }),
        "products/update" => json!({
            "id": id,
            "admin_graphql_api_id": gid("Product"),
            "title": "Wool socks",
            "handle": "wool-socks",
            "status": "active",
            "vendor": "hookbench",
            "product_type": "Socks",
            "created_at": at,
            "updated_at": at,
            "variants": [{ "id": id + 4, "product_id": id, "title": "M", "price": "24.50", "sku": "SOCK-WOOL-M", "inventory_quantity": 42 }],
        }),
        "customers/create" => json!({
            "id": id,
            "admin_graphql_api_id": gid("Customer"),
            "email": "ada@example.com",
            "first_name": "Ada",
            "last_name": "Lovelace",
            "state": "enabled",
            "verified_email": true,
            "created_at": at,
            "updated_at": at,
        }),
        other => {
            // Assumption: the resource is named by the topic's first part (`refunds/create` →
            // `Refund`).
            let kind = other.split('/').next().unwrap_or(other);
            let mut name: String = kind.trim_end_matches('s').to_string();
            if let Some(first) = name.get_mut(0..1) {
                first.make_ascii_uppercase();
            }
            json!({ "id": id, "admin_graphql_api_id": gid(&name), "created_at": at, "updated_at": at })
        }
    };
    Shaped {
        id: uuid(rng),
        headers: vec![
            ("content-type", "application/json".into()),
            ("x-shopify-topic", event.to_string()),
            (
                "x-shopify-shop-domain",
                "hookbench-demo.myshopify.com".into(),
            ),
            ("x-shopify-api-version", "2025-10".into()),
            ("x-shopify-triggered-at", format!("{}.000Z", civil(now_s))),
            ("x-shopify-event-id", uuid(rng)),
        ],
        body: json_body(&body),
    }
}

/// Slack Events API: an `event_callback` envelope around the inner event (or the one-off
/// `url_verification` challenge).
fn slack(event: &str, seq: u64, now_s: i64, rng: &mut impl Rng) -> Shaped {
    let team = format!("T{}", pick(rng, UPPER_DIGITS, 10));
    let (user, bot, channel) = (
        format!("U{}", pick(rng, UPPER_DIGITS, 10)),
        format!("U{}", pick(rng, UPPER_DIGITS, 10)),
        format!("C{}", pick(rng, UPPER_DIGITS, 10)),
    );
    let ts = format!("{now_s}.{:06}", rng.random_range(0..1_000_000));
    let event_id = format!("Ev{}", pick(rng, UPPER_DIGITS, 10));
    let token = pick(rng, ALNUM, 24);
    let headers = vec![
        ("content-type", "application/json".into()),
        (
            "user-agent",
            "Slackbot 1.0 (+https://api.slack.com/robots)".into(),
        ),
    ];
    if event == "url_verification" {
        let body = json!({ "token": token, "challenge": pick(rng, ALNUM, 48), "type": "url_verification" });
        return Shaped {
            id: event_id,
            headers,
            body: json_body(&body),
        };
    }
    let inner = match event {
        "app_mention" => json!({
            "type": "app_mention",
            "user": user,
            "text": format!("<@{bot}> delivery #{seq} from hookbench send"),
            "ts": ts,
            "channel": channel,
            "event_ts": ts,
        }),
        "message" => json!({
            "type": "message",
            "channel": channel,
            "user": user,
            "text": format!("delivery #{seq} from hookbench send"),
            "ts": ts,
            "event_ts": ts,
            "channel_type": "channel",
        }),
        "reaction_added" => json!({
            "type": "reaction_added",
            "user": user,
            "reaction": "tada",
            "item_user": bot,
            "item": { "type": "message", "channel": channel, "ts": ts },
            "event_ts": ts,
        }),
        other => json!({ "type": other, "user": user, "event_ts": ts }),
    };
    let body = json!({
        "token": token,
        "team_id": team,
        "api_app_id": format!("A{}", pick(rng, UPPER_DIGITS, 10)),
        "event": inner,
        "type": "event_callback",
        "event_id": event_id,
        "event_time": now_s,
        "authorizations": [{
            "enterprise_id": null,
            "team_id": team,
            "user_id": bot,
            "is_bot": true,
            "is_enterprise_install": false,
        }],
        "is_ext_shared_channel": false,
    });
    Shaped {
        id: event_id,
        headers,
        body: json_body(&body),
    }
}

/// Twilio: `application/x-www-form-urlencoded` fields of an incoming SMS (`sms`) or of a
/// message status callback (`status`).
fn twilio(event: &str, seq: u64, rng: &mut impl Rng) -> Shaped {
    let sid = format!("SM{}", hex(rng, 32));
    let account = format!("AC{}", hex(rng, 32));
    let (from, to) = ("+15555550100", "+15555550199");
    let mut form = form_urlencoded::Serializer::new(String::new());
    match event {
        "status" => {
            form.append_pair("MessageSid", &sid)
                .append_pair("SmsSid", &sid)
                .append_pair("AccountSid", &account)
                .append_pair("From", to)
                .append_pair("To", from)
                .append_pair("MessageStatus", "delivered")
                .append_pair("SmsStatus", "delivered")
                .append_pair("ApiVersion", "2010-04-01");
        }
        _ => {
            form.append_pair("ToCountry", "US")
                .append_pair("ToState", "CA")
                .append_pair("SmsMessageSid", &sid)
                .append_pair("NumMedia", "0")
                .append_pair("ToCity", "SAN FRANCISCO")
                .append_pair("FromZip", "94105")
                .append_pair("SmsSid", &sid)
                .append_pair("FromState", "CA")
                .append_pair("SmsStatus", "received")
                .append_pair("FromCity", "SAN FRANCISCO")
                .append_pair("Body", &format!("Delivery #{seq} from hookbench send"))
                .append_pair("FromCountry", "US")
                .append_pair("To", to)
                .append_pair("MessagingServiceSid", &format!("MG{}", hex(rng, 32)))
                .append_pair("ToZip", "94107")
                .append_pair("NumSegments", "1")
                .append_pair("MessageSid", &sid)
                .append_pair("AccountSid", &account)
                .append_pair("From", from)
                .append_pair("ApiVersion", "2010-04-01");
        }
    }
    Shaped {
        id: format!("{}-{}", uuid(rng), sid),
        headers: vec![
            ("content-type", "application/x-www-form-urlencoded".into()),
            ("user-agent", "TwilioProxy/1.1".into()),
        ],
        body: form.finish().into_bytes(),
    }
}

/// Discord: an interaction object, `type` 1 (PING, what Discord sends to check an endpoint)
/// or 2 (APPLICATION_COMMAND, a slash command).
fn discord(event: &str, seq: u64, now_s: i64, rng: &mut impl Rng) -> Shaped {
    let id = snowflake(rng, now_s);
    let app = snowflake(rng, now_s - 86_400 * 400);
    let token = format!("aW50ZXJhY3Rpb246{}", pick(rng, ALNUM, 120));
    let body = if event == "command" {
        json!({
            "id": id,
            "application_id": app,
            "type": 2,
            "data": {
                "id": snowflake(rng, now_s - 86_400 * 30),
                "name": "hookbench",
                "type": 1,
                "options": [{ "name": "n", "type": 4, "value": seq }],
            },
            "guild_id": snowflake(rng, now_s - 86_400 * 900),
            "channel_id": snowflake(rng, now_s - 86_400 * 800),
            "member": {
                "user": { "id": snowflake(rng, now_s - 86_400 * 1500), "username": "hookbench_dev", "discriminator": "0", "global_name": "Hookbench Dev" },
                "roles": [],
                "joined_at": format!("{}.000000+00:00", civil(now_s - 86_400 * 700)),
                "permissions": "2248473465835073",
            },
            "token": token,
            "version": 1,
            "locale": "en-US",
            "app_permissions": "2248473465835073",
        })
    } else {
        json!({ "id": id, "application_id": app, "type": 1, "token": token, "version": 1 })
    };
    Shaped {
        id,
        headers: vec![
            ("content-type", "application/json".into()),
            (
                "user-agent",
                "Discord-Interactions/1.0 (+https://discord.com)".into(),
            ),
        ],
        body: json_body(&body),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        // 2000-02-29 (a leap day) and 2026-12-05.
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(1_796_472_123), "2026-12-05T12:02:03Z");
    }

    #[test]
    fn uuid_is_version_4() {
        let mut rng = rand::rng();
        let u = uuid(&mut rng);
        assert_eq!(u.len(), 36);
        assert_eq!(&u[14..15], "4");
        assert!("89ab".contains(&u[19..20]));
    }

    #[test]
    fn every_known_event_is_accepted_and_twilio_discord_refuse_others() {
        for s in Scheme::ALL {
            for e in known_events(s) {
                check_event(s, e).unwrap();
            }
            assert!(known_events(s).contains(&default_event(s)));
        }
        assert!(check_event(Scheme::Stripe, "charge.refunded").is_ok());
        assert!(check_event(Scheme::Twilio, "voice").is_err());
        assert!(check_event(Scheme::Discord, "modal").is_err());
        assert!(check_event(Scheme::Github, "bad event").is_err());
    }
}
