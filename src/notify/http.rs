//! The one HTTP client alerts are posted through: it decides where a
//! request may go, and how hard to try.
//!
//! Where: a receiver's URL comes from an environment variable, and an
//! alert carries the estate's details, so the URL is checked before every
//! send (DNS can change between sends): `https://` only, and every
//! address the host resolves to must be public — not loopback, private,
//! link-local or otherwise special — unless the route allows a private
//! network (a receiver inside it; plain `http://` is then allowed to
//! such addresses only). The instance metadata service is refused even
//! then: nothing legitimate listens there, and reaching it is what a
//! server-side request forgery is after. The connection goes to the
//! addresses checked (pinned), not to a second lookup, and a redirect to
//! another host is not followed.
//!
//! How hard: five tries, waiting `base · 2^n` plus jitter between them;
//! a 429's `Retry-After` is honoured (up to a minute); connection
//! errors, timeouts, 408, 429 and 5xx are retried; any other answer
//! outside 2xx is final.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use reqwest::header::HeaderMap;

use super::NotifyError;
use crate::digest::slack::backoff;

/// Tries per round.
pub const MAX_TRIES: u32 = 5;
/// The longest `Retry-After` waited for within a round.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(60);

/// A URL that passed the checks, with the addresses to connect to.
#[derive(Clone)]
pub struct Checked {
    pub url: reqwest::Url,
    host: String,
    addrs: Vec<SocketAddr>,
}

/// Whether a destination may be reached.
#[derive(Debug, Clone, Copy)]
pub struct Reach {
    pub allow_private_network: bool,
}

/// The instance metadata service (IPv4 and IPv6).
fn is_metadata(ip: IpAddr) -> bool {
    ip == IpAddr::V4(Ipv4Addr::new(169, 254, 169, 254))
        || ip == IpAddr::V6(Ipv6Addr::new(0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254))
}

/// Why `ip` is not a public internet address, if it is not.
pub fn non_public(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            if v4.is_loopback() {
                Some("loopback")
            } else if v4.is_link_local() {
                Some("link-local")
            } else if v4.is_private() {
                Some("private")
            } else if o[0] == 100 && (o[1] & 0xc0) == 64 {
                Some("shared (carrier-grade NAT)")
            } else if v4.is_unspecified() || o[0] == 0 {
                Some("unspecified")
            } else if v4.is_broadcast() || v4.is_multicast() || o[0] >= 240 {
                Some("broadcast, multicast or reserved")
            } else if v4.is_documentation() || (o[0] == 198 && (o[1] & 0xfe) == 18) {
                Some("documentation or benchmarking")
            } else {
                None
            }
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return non_public(IpAddr::V4(v4));
            }
            let first = v6.segments()[0];
            if v6.is_loopback() {
                Some("loopback")
            } else if v6.is_unspecified() {
                Some("unspecified")
            } else if (first & 0xffc0) == 0xfe80 {
                Some("link-local")
            } else if (first & 0xfe00) == 0xfc00 {
                Some("private (unique local)")
            } else if v6.is_multicast() {
                Some("multicast")
            } else {
                None
            }
        }
    }
}

/// Checks `url` (named by `source` in errors, `$VAR`: the URL itself
/// is a secret and never shown) and resolves its host.
pub async fn check(url: &str, source: &str, reach: Reach) -> Result<Checked, NotifyError> {
    let refuse = |why: String| NotifyError::Refused {
        from: source.to_string(),
        why,
    };
    let parsed =
        reqwest::Url::parse(url.trim()).map_err(|e| refuse(format!("it is not a URL ({e})")))?;
    let https = match parsed.scheme() {
        "https" => true,
        "http" if reach.allow_private_network => false,
        "http" => {
            return Err(refuse(
                "it is plain http://; alerts go over https:// only (a receiver inside a \
                 private network may use http:// with allow_private_network = true)"
                    .into(),
            ));
        }
        other => return Err(refuse(format!("its scheme is {other}:, not https:"))),
    };
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(refuse(
            "it holds credentials before the host; put them in the path or a header".into(),
        ));
    }
    let host = parsed
        .host_str()
        .ok_or_else(|| refuse("it has no host".into()))?
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_string();
    let port = parsed
        .port_or_known_default()
        .ok_or_else(|| refuse("it has no port".into()))?;
    let addrs: Vec<SocketAddr> = match host.parse::<IpAddr>() {
        Ok(ip) => vec![SocketAddr::new(ip, port)],
        Err(_) => tokio::net::lookup_host((host.as_str(), port))
            .await
            .map_err(|e| refuse(format!("its host {host} does not resolve: {e}")))?
            .collect(),
    };
    if addrs.is_empty() {
        return Err(refuse(format!("its host {host} resolves to no address")));
    }
    for a in &addrs {
        let ip = a.ip();
        if is_metadata(ip) {
            return Err(refuse(format!(
                "{host} resolves to {ip}, the instance metadata service: never allowed"
            )));
        }
        if let Some(kind) = non_public(ip) {
            if !reach.allow_private_network {
                return Err(refuse(format!(
                    "{host} resolves to {ip}, a {kind} address; set allow_private_network = true \
                     on the route to allow a receiver inside the network"
                )));
            }
        } else if !https {
            return Err(refuse(format!(
                "{host} resolves to the public address {ip}: plain http:// is allowed to private \
                 receivers only"
            )));
        }
    }
    Ok(Checked {
        url: parsed,
        host,
        addrs,
    })
}

/// The answer that ended a round of tries.
#[derive(Debug)]
pub enum Failure {
    /// Worth another round later.
    Retry(String),
    /// Final.
    Reject(String),
}

/// A round's outcome: the tries made, and the failure if it failed.
#[derive(Debug)]
pub struct Round {
    pub tries: u32,
    pub result: Result<(), Failure>,
}

/// What a request sends; `headers` is called before each try (a fresh
/// signature timestamp each time).
pub struct Post<'a> {
    pub body: &'a [u8],
    pub headers: &'a (dyn Fn() -> HeaderMap + Send + Sync),
    pub timeout: Duration,
    pub base_delay: Duration,
    /// Strings to scrub from any error (the route's secrets): a receiver
    /// may echo what it was sent.
    pub secrets: &'a [&'a str],
}

/// Posts `post` to `to` with retries.
pub async fn send(to: &Checked, post: &Post<'_>) -> Round {
    let host = to.host.clone();
    // Same host (and scheme) only, three hops at most.
    let policy = reqwest::redirect::Policy::custom(move |attempt| {
        if attempt.previous().len() >= 3 {
            attempt.stop()
        } else if attempt.url().host_str() == Some(host.as_str())
            && attempt.previous().first().map(|u| u.scheme()) == Some(attempt.url().scheme())
        {
            attempt.follow()
        } else {
            attempt.stop()
        }
    });
    let mut builder = reqwest::Client::builder()
        .timeout(post.timeout)
        .connect_timeout(post.timeout.min(Duration::from_secs(5)))
        .redirect(policy)
        .user_agent(concat!("tfdrift/", env!("CARGO_PKG_VERSION")));
    if to.host.parse::<IpAddr>().is_err() {
        builder = builder.resolve_to_addrs(&to.host, &to.addrs);
    }
    let client = match builder.build() {
        Ok(c) => c,
        Err(e) => {
            return Round {
                tries: 0,
                result: Err(Failure::Retry(format!(
                    "cannot build the HTTP client: {}",
                    e.without_url()
                ))),
            };
        }
    };
    let scrub = |s: String| {
        post.secrets
            .iter()
            .filter(|x| x.len() >= 4)
            .fold(s, |s, secret| s.replace(secret, "[redacted]"))
    };
    let mut last = String::new();
    for attempt in 1..=MAX_TRIES {
        let mut wait = backoff(post.base_delay, attempt);
        let sent = client
            .post(to.url.clone())
            .headers((post.headers)())
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(post.body.to_vec())
            .send()
            .await;
        match sent {
            Err(e) => {
                // Never the URL: reqwest puts it in its errors.
                last = scrub(describe(&e));
            }
            Ok(resp) => {
                let (status, retry_after, body) = crate::digest::slack::answer(resp, 300).await;
                let said = scrub(format!("{status} {}", body.trim()));
                match status {
                    200..=299 => {
                        return Round {
                            tries: attempt,
                            result: Ok(()),
                        };
                    }
                    300..=399 => {
                        return Round {
                            tries: attempt,
                            result: Err(Failure::Reject(format!(
                                "{status}: a redirect not followed (to another host or \
                                 scheme, or past three hops)"
                            ))),
                        };
                    }
                    429 => {
                        let after = retry_after.unwrap_or(wait);
                        if after > MAX_RETRY_AFTER {
                            return Round {
                                tries: attempt,
                                result: Err(Failure::Retry(format!(
                                    "429, Retry-After {}s: left for a later round",
                                    after.as_secs()
                                ))),
                            };
                        }
                        wait = after;
                        last = said;
                    }
                    408 | 500..=599 => last = said,
                    _ => {
                        return Round {
                            tries: attempt,
                            result: Err(Failure::Reject(said)),
                        };
                    }
                }
            }
        }
        tracing::warn!(attempt, error = %last, "alert post failed; retrying");
        if attempt < MAX_TRIES {
            tokio::time::sleep(wait).await;
        }
    }
    Round {
        tries: MAX_TRIES,
        result: Err(Failure::Retry(format!(
            "{MAX_TRIES} tries failed; last: {last}"
        ))),
    }
}

/// A transport error in words, without the URL.
fn describe(e: &reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "cannot connect"
    } else if e.is_redirect() {
        "too many redirects"
    } else {
        "request failed"
    };
    let mut text = format!(
        "{kind}: {}",
        e.to_string()
            .replace(e.url().map_or("", |u| u.as_str()), "[url]")
    );
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text.push_str(&format!(": {s}"));
        source = s.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn special_addresses_are_named() {
        for (ip, want) in [
            ("127.0.0.1", Some("loopback")),
            ("10.1.2.3", Some("private")),
            ("172.16.0.1", Some("private")),
            ("192.168.1.1", Some("private")),
            ("169.254.169.254", Some("link-local")),
            ("100.64.0.1", Some("shared (carrier-grade NAT)")),
            ("0.0.0.0", Some("unspecified")),
            ("::1", Some("loopback")),
            ("fe80::1", Some("link-local")),
            ("fd00:ec2::254", Some("private (unique local)")),
            ("::ffff:10.0.0.1", Some("private")),
            ("8.8.8.8", None),
            ("2606:4700::1111", None),
        ] {
            assert_eq!(non_public(ip.parse().unwrap()), want, "{ip}");
        }
    }

    fn refused(url: &str, private: bool) -> String {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        match rt.block_on(check(
            url,
            "$HOOK",
            Reach {
                allow_private_network: private,
            },
        )) {
            Ok(_) => String::new(),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn only_public_https_unless_allowed_and_never_the_metadata_service() {
        let e = refused("https://169.254.169.254/latest/meta-data/", true);
        assert!(
            e.contains("instance metadata service: never allowed"),
            "{e}"
        );
        assert!(e.contains("$HOOK"), "{e}");
        let e = refused("https://[fd00:ec2::254]/", true);
        assert!(e.contains("instance metadata"), "{e}");
        let e = refused("https://10.0.0.5/hook", false);
        assert!(
            e.contains("a private address; set allow_private_network"),
            "{e}"
        );
        assert_eq!(refused("https://10.0.0.5/hook", true), "");
        assert_eq!(refused("http://127.0.0.1:9/hook", true), "");
        let e = refused("http://127.0.0.1:9/hook", false);
        assert!(e.contains("plain http://"), "{e}");
        let e = refused("http://8.8.8.8/hook", true);
        assert!(e.contains("public address 8.8.8.8"), "{e}");
        let e = refused("https://user:pw@8.8.8.8/hook", false);
        assert!(e.contains("credentials"), "{e}");
        assert!(!e.contains("pw"), "{e}");
        let e = refused("ftp://8.8.8.8/", false);
        assert!(e.contains("scheme is ftp:"), "{e}");
        assert_eq!(refused("https://8.8.8.8/hook", false), "");
        // A name is resolved and its addresses checked.
        let e = refused("https://localhost/hook", false);
        assert!(e.contains("loopback"), "{e}");
    }

    #[test]
    fn backoff_doubles_with_at_most_a_quarter_of_jitter() {
        let base = Duration::from_millis(100);
        for (attempt, low) in [(1, 100), (2, 200), (3, 400), (4, 800)] {
            let d = backoff(base, attempt).as_millis();
            assert!(d >= low && d <= low + low / 4, "{attempt}: {d}");
        }
    }
}
