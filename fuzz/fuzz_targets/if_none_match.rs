//! `If-None-Match` (`http::conditional::not_modified`): any request headers, any
//! current entity tag. A 304 comes only when some member names the tag (or is
//! `*`), always with that tag and no body; a header that does list the tag, strong
//! or weak, after whatever else, always gets the 304.
#![no_main]

use axum::http::{HeaderMap, HeaderValue, header};
use libfuzzer_sys::fuzz_target;

fn check(headers: &HeaderMap, etag: &HeaderValue) -> bool {
    match cutover_server::http::conditional::not_modified(headers, etag) {
        Some(response) => {
            assert_eq!(response.status(), 304);
            assert_eq!(response.headers().get(header::ETAG), Some(etag));
            let body = cutover_fuzz::collect(response.into_body());
            assert!(body.is_empty(), "a 304 has no body");
            true
        }
        None => false,
    }
}

fuzz_target!(|input: (Vec<Vec<u8>>, Vec<u8>)| {
    let (values, tag) = input;
    // The server's tags are never empty (an empty one would equal an empty member).
    let Ok(etag) = HeaderValue::from_bytes(&tag) else {
        return;
    };
    if tag.is_empty() {
        return;
    }
    let mut headers = HeaderMap::new();
    for value in &values {
        if let Ok(value) = HeaderValue::from_bytes(value) {
            headers.append(header::IF_NONE_MATCH, value);
        }
    }
    let sent: Vec<&[u8]> = headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .map(HeaderValue::as_bytes)
        .collect();
    if check(&headers, &etag) {
        let names_it = |value: &&[u8]| {
            value.contains(&b'*') || (!tag.is_empty() && value.windows(tag.len()).any(|w| w == tag))
        };
        assert!(
            sent.iter().any(names_it),
            "a 304 for headers that never name the tag"
        );
    }

    // A tag the server could send (a quoted strong tag, RFC 9110 §8.8.3, here without
    // commas): appending it, strong or weak, after any members makes the request name it.
    let plain = etag.to_str().is_ok_and(|t| {
        t.len() >= 2
            && t.starts_with('"')
            && t.ends_with('"')
            && !t[1..t.len() - 1].contains(['"', ','])
    });
    if plain {
        let tag = etag.to_str().unwrap();
        for member in [tag.to_owned(), format!("W/{tag}")] {
            let mut listed = headers.clone();
            listed.append(
                header::IF_NONE_MATCH,
                HeaderValue::from_str(&member).unwrap(),
            );
            assert!(check(&listed, &etag), "the tag was listed: {member}");
            if let Some(first) = values.first().and_then(|v| std::str::from_utf8(v).ok()) {
                if let Ok(joined) = HeaderValue::from_str(&format!("{first}, {member}")) {
                    let mut one = HeaderMap::new();
                    one.insert(header::IF_NONE_MATCH, joined);
                    assert!(
                        check(&one, &etag),
                        "the tag ended a list: {first}, {member}"
                    );
                }
            }
        }
    }
});
