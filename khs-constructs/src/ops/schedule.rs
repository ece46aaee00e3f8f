//! AWS schedule expressions (`cron(…)`, `rate(…)`), checked before synth.
//!
//! Application Auto Scaling, EventBridge and AWS Backup take six-field cron
//! expressions (minutes, hours, day-of-month, month, day-of-week, year) in
//! which exactly one of the two day fields is `?`. The five-field Unix form
//! (`cron(0 6 * * MON-FRI)`) is refused by AWS at deploy time and not
//! checked by cfn-lint, so [`Cron::parse`] rejects it with a message that
//! shows the AWS form. Typed constructors ([`Cron::weekdays_at`],
//! [`Cron::daily_at`]) avoid the question altogether.
//!
//! ```
//! use khs_constructs::ops::schedule::Cron;
//! assert_eq!(Cron::weekdays_at(6, 0).unwrap().expression(), "cron(0 6 ? * MON-FRI *)");
//! let e = Cron::parse("khs-crm-prod/Api", "schedule", "cron(0 6 * * MON-FRI)").unwrap_err();
//! assert!(e.to_string().contains("cron(0 6 ? * MON-FRI *)"));
//! ```

use std::fmt;

use crate::core::error::{Error, Result};

/// A six-field AWS cron expression (UTC).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cron {
    fields: [String; 6],
}

const NAMES: [&str; 6] = [
    "minutes",
    "hours",
    "day-of-month",
    "month",
    "day-of-week",
    "year",
];
const RANGES: [(u32, u32); 6] = [(0, 59), (0, 23), (1, 31), (1, 12), (1, 7), (1970, 2199)];
const MONTHS: [&str; 12] = [
    "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
];
const DAYS: [&str; 7] = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

impl Cron {
    /// Every Monday to Friday at `hour:minute` UTC:
    /// `cron(minute hour ? * MON-FRI *)`.
    pub fn weekdays_at(hour: u32, minute: u32) -> Result<Self> {
        Self::from_fields(
            "schedule",
            "time",
            [
                minute.to_string(),
                hour.to_string(),
                "?".into(),
                "*".into(),
                "MON-FRI".into(),
                "*".into(),
            ],
        )
    }

    /// Every day at `hour:minute` UTC: `cron(minute hour * * ? *)`.
    pub fn daily_at(hour: u32, minute: u32) -> Result<Self> {
        Self::from_fields(
            "schedule",
            "time",
            [
                minute.to_string(),
                hour.to_string(),
                "*".into(),
                "*".into(),
                "?".into(),
                "*".into(),
            ],
        )
    }

    /// Parses `cron(…)` with six fields. A five-field Unix expression is an
    /// error whose message gives the equivalent AWS expression.
    pub fn parse(path: impl fmt::Display, prop: &str, expr: &str) -> Result<Self> {
        let err = |m: String| Error::invalid_prop(&path, prop, m);
        let inner = expr
            .trim()
            .strip_prefix("cron(")
            .and_then(|r| r.strip_suffix(')'))
            .ok_or_else(|| {
                err(format!(
                    "must be an AWS cron expression such as \"cron(0 6 ? * MON-FRI *)\", got {expr:?}"
                ))
            })?;
        let parts: Vec<&str> = inner.split_whitespace().collect();
        if parts.len() == 5 {
            let (dom, dow) = if parts[4] == "*" || parts[4] == "?" {
                (parts[2], "?")
            } else {
                ("?", parts[4])
            };
            let aws = format!(
                "cron({} {} {} {} {} *)",
                parts[0], parts[1], dom, parts[3], dow
            );
            return Err(err(format!(
                "must have the six fields AWS uses (minutes hours day-of-month month day-of-week year, one day field \"?\"), got the five-field Unix form {expr:?}; write {aws:?}"
            )));
        }
        let fields: [String; 6] = parts
            .iter()
            .map(|p| p.to_string())
            .collect::<Vec<_>>()
            .try_into()
            .map_err(|_| {
                err(format!(
                    "must have six fields (minutes hours day-of-month month day-of-week year), got {} in {expr:?}",
                    parts.len()
                ))
            })?;
        Self::from_fields(&path, prop, fields)
    }

    fn from_fields(path: impl fmt::Display, prop: &str, fields: [String; 6]) -> Result<Self> {
        let err = |m: String| Error::invalid_prop(&path, prop, m);
        let q = |i: usize| fields[i] == "?";
        if q(2) == q(4) {
            return Err(err(format!(
                "must have \"?\" in exactly one of day-of-month and day-of-week, got {:?} and {:?}",
                fields[2], fields[4]
            )));
        }
        for (i, f) in fields.iter().enumerate() {
            if let Err(m) = check_field(i, f) {
                return Err(err(format!("has an invalid {} field {f:?}: {m}", NAMES[i])));
            }
        }
        Ok(Cron { fields })
    }

    /// The expression, `cron(0 6 ? * MON-FRI *)`.
    pub fn expression(&self) -> String {
        format!("cron({})", self.fields.join(" "))
    }
}

impl fmt::Display for Cron {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.expression())
    }
}

fn value(i: usize, s: &str) -> std::result::Result<u32, String> {
    let named = match i {
        3 => MONTHS.iter().position(|m| *m == s).map(|p| p as u32 + 1),
        4 => DAYS.iter().position(|d| *d == s).map(|p| p as u32 + 1),
        _ => None,
    };
    let n = match named {
        Some(n) => n,
        None => s
            .parse::<u32>()
            .map_err(|_| format!("{s:?} is not a number or name"))?,
    };
    let (lo, hi) = RANGES[i];
    if !(lo..=hi).contains(&n) {
        return Err(format!("{n} is outside {lo}..={hi}"));
    }
    Ok(n)
}

fn check_field(i: usize, f: &str) -> std::result::Result<(), String> {
    if f == "?" {
        return if i == 2 || i == 4 {
            Ok(())
        } else {
            Err("\"?\" is only allowed in the day fields".into())
        };
    }
    for item in f.split(',') {
        let (range, step) = match item.split_once('/') {
            Some((r, s)) => (r, Some(s)),
            None => (item, None),
        };
        if let Some(s) = step {
            let n: u32 = s
                .parse()
                .map_err(|_| format!("step {s:?} is not a number"))?;
            if n == 0 {
                return Err("a step must be at least 1".into());
            }
        }
        if range == "*" {
            continue;
        }
        // Special forms of the day fields (L, W, #) are passed through.
        if (i == 2 || i == 4) && (range.contains('L') || range.contains('W') || range.contains('#'))
        {
            continue;
        }
        match range.split_once('-') {
            Some((a, b)) => {
                value(i, a)?;
                value(i, b)?;
            }
            None => {
                value(i, range)?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_aws_expressions() {
        for e in [
            "cron(0 6 ? * MON-FRI *)",
            "cron(0 18 * * ? *)",
            "cron(0/15 2 1 JAN,JUL ? 2027)",
        ] {
            assert_eq!(Cron::parse("s", "p", e).unwrap().expression(), e);
        }
        assert_eq!(
            Cron::daily_at(18, 0).unwrap().expression(),
            "cron(0 18 * * ? *)"
        );
    }

    #[test]
    fn fails_when_a_cron_has_the_unix_form() {
        let e = Cron::parse(
            "khs-crm-prod/ApiService/Scaling",
            "schedule",
            "cron(0 18 * * *)",
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.starts_with("khs-crm-prod/ApiService/Scaling: schedule must have the six fields"),
            "{e}"
        );
        assert!(e.ends_with("write \"cron(0 18 * * ? *)\""), "{e}");
        let e = Cron::parse("p", "schedule", "cron(0 6 * * MON-FRI)")
            .unwrap_err()
            .to_string();
        assert!(e.contains("\"cron(0 6 ? * MON-FRI *)\""), "{e}");
    }

    #[test]
    fn fails_when_a_cron_field_is_out_of_range() {
        let e = Cron::parse("khs/X", "schedule", "cron(0 25 * * ? *)")
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "khs/X: schedule has an invalid hours field \"25\": 25 is outside 0..=23"
        );
        assert!(Cron::weekdays_at(6, 60).is_err());
    }

    #[test]
    fn fails_when_both_or_neither_day_field_is_a_question_mark() {
        let e = Cron::parse("khs/X", "schedule", "cron(0 6 * * MON *)")
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("khs/X: schedule must have \"?\" in exactly one"),
            "{e}"
        );
        assert!(Cron::parse("khs/X", "schedule", "cron(0 6 ? * ? *)").is_err());
        assert!(Cron::parse("khs/X", "schedule", "rate(5 minutes)").is_err());
    }
}
