//! ASPA definitions: which provider ASes a customer AS authorises, in the
//! canonical form an ASPA object carries (draft-ietf-sidrops-aspa-profile).

use std::fmt;

use crate::error::CaError;
use crate::resources::ResourceSet;
use crate::roa::parse_asn;

/// One ASPA: a customer AS and the provider ASes it authorises.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AspaDefinition {
    /// The customer AS (never AS0).
    pub customer: u32,
    /// The provider ASes, ascending and free of duplicates; `[0]` says
    /// the customer has no transit provider.
    pub providers: Vec<u32>,
}

/// Why a provider set is suspicious, though it makes a valid ASPA: shown
/// to the operator as a warning, as RFC 9319's are for ROAs.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum AspaWarning {
    /// No provider was given: the ASPA lists AS0 alone, which says the
    /// customer has no transit provider at all, so every route of it that
    /// went through a provider becomes invalid under ASPA verification.
    NoProviders {
        /// The customer AS.
        customer: u32,
    },
    /// AS0 is listed next to real providers: it has no effect there.
    As0WithOthers {
        /// The customer AS.
        customer: u32,
    },
    /// A provider seen in the routes (the AS next to the customer in an
    /// AS path) is not listed: routes through it become invalid.
    UnlistedNeighbour {
        /// The customer AS.
        customer: u32,
        /// The AS seen next to it.
        neighbour: u32,
        /// How many announced routes have it there.
        routes: usize,
    },
}

impl fmt::Display for AspaWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AspaWarning::NoProviders { customer } => write!(
                f,
                "AS{customer} lists no provider, so its ASPA holds AS0 alone: it says AS{customer} has no transit provider, and routes of AS{customer} received through any provider will be invalid"
            ),
            AspaWarning::As0WithOthers { customer } => write!(
                f,
                "the ASPA of AS{customer} lists AS0 next to other providers; AS0 only has a meaning alone, here it has no effect"
            ),
            AspaWarning::UnlistedNeighbour {
                customer,
                neighbour,
                routes,
            } => write!(
                f,
                "AS{neighbour} appears upstream of AS{customer} in {routes} announced route(s) but is not listed as a provider: if it is a provider, those routes will be invalid"
            ),
        }
    }
}

impl AspaDefinition {
    /// Creates a definition in canonical form: providers sorted, AS0 for
    /// an empty set. Refuses AS0 as the customer, a duplicate provider,
    /// and the customer among its own providers (the profile's §3.3 rules
    /// for the ASProviderAttestation content).
    pub fn new(customer: u32, providers: &[u32]) -> Result<Self, CaError> {
        let bad = |reason: String| CaError::BadAspa { customer, reason };
        if customer == 0 {
            return Err(bad("the customer AS must not be AS0".into()));
        }
        let mut sorted = providers.to_vec();
        sorted.sort_unstable();
        if let Some(pair) = sorted.windows(2).find(|w| w[0] == w[1]) {
            return Err(bad(format!("provider AS{} is listed twice", pair[0])));
        }
        if sorted.contains(&customer) {
            return Err(bad(format!("AS{customer} cannot be its own provider")));
        }
        if sorted.is_empty() {
            sorted.push(0);
        }
        Ok(AspaDefinition {
            customer,
            providers: sorted,
        })
    }

    /// Parses a provider list such as `"AS64500, AS64501"` (commas or
    /// spaces between them; empty for none).
    pub fn parse_providers(text: &str) -> Result<Vec<u32>, CaError> {
        text.split(|c: char| c == ',' || c.is_whitespace())
            .filter(|s| !s.is_empty())
            .map(|s| parse_asn(s).map_err(CaError::Resource))
            .collect()
    }

    /// Checks that the CA holds the customer AS: the ASPA's EE
    /// certificate carries exactly it (the profile's §4).
    pub fn check_held(&self, ca: &str, resources: &ResourceSet) -> Result<(), CaError> {
        if resources.asns.contains_value(self.customer) {
            Ok(())
        } else {
            Err(CaError::AsnNotHeld {
                ca: ca.to_string(),
                asn: self.customer,
                resources: resources.to_string(),
            })
        }
    }

    /// What looks wrong in this definition on its own.
    pub fn warnings(&self) -> Vec<AspaWarning> {
        let customer = self.customer;
        if self.providers == [0] {
            vec![AspaWarning::NoProviders { customer }]
        } else if self.providers.len() > 1 && self.providers[0] == 0 {
            vec![AspaWarning::As0WithOthers { customer }]
        } else {
            vec![]
        }
    }

    /// The providers as text, `AS64500, AS64501`.
    pub fn providers_text(&self) -> String {
        let list: Vec<String> = self.providers.iter().map(|p| format!("AS{p}")).collect();
        list.join(", ")
    }
}

impl fmt::Display for AspaDefinition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AS{} => {}", self.customer, self.providers_text())
    }
}

/// The file name of the ASPA of `customer`.
pub fn aspa_file_name(customer: u32) -> String {
    format!("AS{customer}.asa")
}

/// The customer AS of an ASPA file named by [`aspa_file_name`]; `None`
/// for any other file.
pub fn aspa_file_asn(name: &str) -> Option<u32> {
    name.strip_prefix("AS")?.strip_suffix(".asa")?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_form() {
        let a = AspaDefinition::new(64496, &[64502, 64500]).unwrap();
        assert_eq!(a.providers, vec![64500, 64502]);
        assert_eq!(a.to_string(), "AS64496 => AS64500, AS64502");
        assert_eq!(AspaDefinition::new(64496, &[]).unwrap().providers, vec![0]);
        assert!(a.warnings().is_empty());
        for none in [&[][..], &[0][..]] {
            assert_eq!(
                AspaDefinition::new(64496, none).unwrap().warnings(),
                vec![AspaWarning::NoProviders { customer: 64496 }]
            );
        }
        assert_eq!(
            AspaDefinition::new(64496, &[0, 64500]).unwrap().warnings(),
            vec![AspaWarning::As0WithOthers { customer: 64496 }]
        );
    }

    #[test]
    fn refusals() {
        for (customer, providers, says) in [
            (0, vec![64500], "AS0"),
            (64496, vec![64500, 64500], "listed twice"),
            (64496, vec![64496], "its own provider"),
        ] {
            let e = AspaDefinition::new(customer, &providers).unwrap_err();
            assert!(e.to_string().contains(says), "{e}");
        }
    }

    #[test]
    fn provider_lists_parse() {
        assert_eq!(
            AspaDefinition::parse_providers("AS64500, 64501 as64502").unwrap(),
            vec![64500, 64501, 64502]
        );
        assert_eq!(
            AspaDefinition::parse_providers(" ").unwrap(),
            Vec::<u32>::new()
        );
        assert!(AspaDefinition::parse_providers("AS64500, ASX").is_err());
    }

    #[test]
    fn file_names_parse_back() {
        assert_eq!(
            aspa_file_asn(&aspa_file_name(4_200_000_000)),
            Some(4_200_000_000)
        );
        assert_eq!(aspa_file_asn("AS1.roa"), None);
    }
}
