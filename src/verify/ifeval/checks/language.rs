//! `language:response_language`.

use super::Check;
use crate::verify::ifeval::error::InstructionError;
use crate::verify::ifeval::kwargs::Kwargs;
use crate::verify::ifeval::language::{LanguageCodeProblem, ResponseLanguage};

/// `language:response_language`: the detected language of the whole response is `language`
/// (text with no detectable language counts as followed, as in IFEval).
#[derive(Debug)]
pub struct ResponseLanguageCheck {
    language: ResponseLanguage,
}

impl ResponseLanguageCheck {
    /// Kwargs: `language` (ISO 639-1 code). A code the detector cannot identify is
    /// [`InstructionError::Unsupported`]; an unknown code is [`InstructionError::BadKwarg`].
    pub fn new(kwargs: &Kwargs) -> Result<Self, InstructionError> {
        let code = kwargs.string("language")?;
        match ResponseLanguage::parse(code) {
            Ok(language) => Ok(ResponseLanguageCheck { language }),
            Err(LanguageCodeProblem::Undetectable) => Err(InstructionError::Unsupported {
                id: kwargs.id().to_string(),
                reason: format!(
                    "the language detector (whatlang) cannot identify language {code:?}"
                ),
            }),
            Err(LanguageCodeProblem::Unknown) => Err(kwargs.bad(
                "language",
                format!("is {code:?}"),
                &format!(
                    "an ISO 639-1 code, one of {}",
                    ResponseLanguage::supported_codes().join(", ")
                ),
            )),
        }
    }
}

impl Check for ResponseLanguageCheck {
    fn is_followed(&self, response: &str, _prompt: &str) -> bool {
        self.language.matches(response)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn build(code: &str) -> Result<ResponseLanguageCheck, InstructionError> {
        let kwargs = json!({ "language": code });
        let kw = Kwargs::new("language:response_language", &kwargs, &["language"]).expect("kwargs");
        ResponseLanguageCheck::new(&kw)
    }

    #[test]
    fn checks_the_language_of_the_whole_response() {
        let checker = build("es").expect("valid");
        assert!(checker.is_followed(
            "El rápido zorro marrón salta sobre el perro perezoso mientras el granjero mira.",
            ""
        ));
        assert!(!checker.is_followed(
            "The quick brown fox jumps over the lazy dog while the farmer watches.",
            ""
        ));
    }

    #[test]
    fn undetectable_and_unknown_codes_are_distinguished() {
        assert!(matches!(
            build("sw"),
            Err(InstructionError::Unsupported { .. })
        ));
        let error = build("klingon").expect_err("unknown");
        assert!(error.to_string().contains("ISO 639-1"), "{error}");
    }
}
