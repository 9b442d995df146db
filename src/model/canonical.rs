//! Pure value helpers that both sides of a comparison use: one spelling
//! for a CIDR or a protocol, and the `*` wildcard of ignore patterns and
//! rules.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use base64::Engine;
use sha1::{Digest, Sha1};

/// `-1`, `all` → `-1`; IANA numbers of common protocols → their names, as
/// AWS answers them; anything else lower-cased.
pub fn canonical_protocol(p: &str) -> String {
    match p.trim().to_ascii_lowercase().as_str() {
        "-1" | "all" => "-1".into(),
        "6" => "tcp".into(),
        "17" => "udp".into(),
        "1" => "icmp".into(),
        "58" => "icmpv6".into(),
        other => other.into(),
    }
}

/// A CIDR with host bits cleared and IPv6 in its compressed lower-case
/// form; anything that does not parse is returned unchanged.
pub fn canonical_cidr(c: &str) -> String {
    let Some((addr, len)) = c.trim().split_once('/') else {
        return c.to_string();
    };
    let (Ok(addr), Ok(len)) = (addr.parse::<IpAddr>(), len.parse::<u32>()) else {
        return c.to_string();
    };
    match addr {
        IpAddr::V4(a) if len <= 32 => {
            let mask = if len == 0 { 0 } else { u32::MAX << (32 - len) };
            format!("{}/{len}", Ipv4Addr::from(u32::from(a) & mask))
        }
        IpAddr::V6(a) if len <= 128 => {
            let mask = if len == 0 {
                0
            } else {
                u128::MAX << (128 - len)
            };
            format!("{}/{len}", Ipv6Addr::from(u128::from(a) & mask))
        }
        _ => c.to_string(),
    }
}

/// `*` matches any run of characters (dots included, so
/// `tags.*` covers every tag); everything else matches itself.
pub fn glob(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    let (mut pi, mut ti, mut star, mut mark) = (0, 0, None, 0);
    while ti < t.len() {
        if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if pi < p.len() && p[pi] == t[ti] {
            pi += 1;
            ti += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

/// The Terraform AWS provider's digest of instance user data: the SHA-1
/// (hex) of the decoded data, or of the text itself when it is not
/// base64 — what the provider writes to state as `user_data`, and what
/// tfdrift compares instead of the data, which may hold secrets.
pub fn user_data_digest(data: &str) -> String {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(data)
        .unwrap_or_else(|_| data.as_bytes().to_vec());
    Sha1::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Whether `v` is already such a digest (40 hex characters).
pub fn is_user_data_digest(v: &str) -> bool {
    v.len() == 40 && v.bytes().all(|b| b.is_ascii_hexdigit())
}

#[cfg(test)]
mod tests {
    use base64::Engine;

    use super::*;

    #[test]
    fn user_data_digest_is_the_providers() {
        let script = "#!/bin/sh\necho hi\n";
        // `printf '#!/bin/sh\necho hi\n' | sha1sum`
        let want = "b2b62c101a156f5f12dd7197cf7ae9424164b115";
        assert_eq!(user_data_digest(script), want);
        // Base64, as the API answers and `user_data_base64` holds, is
        // decoded first.
        let encoded = base64::engine::general_purpose::STANDARD.encode(script);
        assert_eq!(user_data_digest(&encoded), want);
        assert!(is_user_data_digest(want));
        assert!(!is_user_data_digest(script));
        assert!(!is_user_data_digest(&want[1..]));
    }
}
