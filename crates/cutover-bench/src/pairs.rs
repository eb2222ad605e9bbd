//! Paired write rows: a variant (a keyed cut, an If-Match activate) measured next to
//! its plain row, their order swapped every round (`--rounds`), so neither always
//! runs on the database the other left behind; the report gives each pair's
//! variant/plain throughput per round and the median.

use crate::bench::{ACTIVATE, ACTIVATE_IF_MATCH, CREATE, CREATE_KEYED, ROLLBACK};
use crate::stats::median;
use crate::workloads::WriteKind;

/// Each variant with its plain row.
const PAIRS: [(WriteKind, &str, WriteKind, &str); 2] = [
    (
        WriteKind::Create,
        CREATE,
        WriteKind::CreateKeyed,
        CREATE_KEYED,
    ),
    (
        WriteKind::Activate,
        ACTIVATE,
        WriteKind::ActivateIfMatch,
        ACTIVATE_IF_MATCH,
    ),
];

/// The write rows in the order round `round` (from 0) runs them: each pair's plain
/// row first in even rounds, its variant first in odd ones; rollback last.
pub fn write_order(round: u32) -> Vec<(&'static str, WriteKind)> {
    let mut order = Vec::new();
    for (plain, plain_label, variant, variant_label) in PAIRS {
        let (plain, variant) = ((plain_label, plain), (variant_label, variant));
        if round.is_multiple_of(2) {
            order.extend([plain, variant]);
        } else {
            order.extend([variant, plain]);
        }
    }
    order.push((ROLLBACK, WriteKind::Rollback));
    order
}

/// One note per pair measured in at least one round: the variant/plain ratio of
/// throughput in each round (`measured` holds each row's round, kind and rate), and
/// their median.
pub fn pair_ratios(measured: &[(u32, WriteKind, f64)], rounds: u32) -> Vec<String> {
    let rate = |round: u32, kind: WriteKind| {
        measured
            .iter()
            .find(|(r, k, _)| *r == round && *k == kind)
            .map(|(_, _, per_second)| *per_second)
    };
    let mut notes = Vec::new();
    for (plain, plain_label, variant, variant_label) in PAIRS {
        let ratios: Vec<f64> = (0..rounds)
            .filter_map(|round| match (rate(round, variant), rate(round, plain)) {
                (Some(v), Some(p)) if p > 0.0 => Some(v / p),
                _ => None,
            })
            .collect();
        let each: Vec<String> = ratios.iter().map(|r| format!("{r:.2}")).collect();
        let Some(middle) = median(&mut ratios.clone()) else {
            continue;
        };
        notes.push(format!(
            "\"{variant_label}\" / \"{plain_label}\": {} by round, median {middle:.2}",
            each.join(", ")
        ));
    }
    notes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_variant_goes_first_every_other_round() {
        let kinds = |round| -> Vec<WriteKind> {
            write_order(round)
                .into_iter()
                .map(|(_, kind)| kind)
                .collect()
        };
        assert_eq!(
            kinds(0),
            [
                WriteKind::Create,
                WriteKind::CreateKeyed,
                WriteKind::Activate,
                WriteKind::ActivateIfMatch,
                WriteKind::Rollback
            ]
        );
        assert_eq!(
            kinds(1),
            [
                WriteKind::CreateKeyed,
                WriteKind::Create,
                WriteKind::ActivateIfMatch,
                WriteKind::Activate,
                WriteKind::Rollback
            ]
        );
    }

    #[test]
    fn each_pair_gets_its_ratios_by_round_and_their_median() {
        let measured = [
            (0, WriteKind::Create, 100.0),
            (0, WriteKind::CreateKeyed, 90.0),
            (1, WriteKind::CreateKeyed, 80.0),
            (1, WriteKind::Create, 100.0),
            (2, WriteKind::Create, 100.0),
            (2, WriteKind::CreateKeyed, 95.0),
            (0, WriteKind::Activate, 50.0),
        ];
        let notes = pair_ratios(&measured, 3);
        assert_eq!(
            notes,
            [format!(
                "\"{CREATE_KEYED}\" / \"{CREATE}\": 0.90, 0.80, 0.95 by round, median 0.90"
            )]
        );
    }
}
