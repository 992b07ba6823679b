//! Language identification for `language:response_language` and the two `change_case:english_*`
//! checkers.
//!
//! IFEval calls `langdetect.detect` (a port of Google's language-detection library: character
//! n-gram profiles of 55 languages, ISO 639-1 codes, randomized sampling unless seeded) and counts
//! a detection failure ("no features in text") as *followed*. Here the `whatlang` crate does the
//! identification: trigram profiles of 69 languages, deterministic, pure Rust and fast (tens of
//! microseconds for a few hundred words). What differs:
//! - whatlang names languages by ISO 639-3; the table below maps them to the ISO 639-1 codes IFEval
//!   uses. Norwegian is `no` in langdetect and `nb` here — both are accepted.
//! - langdetect distinguishes `zh-cn` / `zh-tw`; whatlang has one Mandarin. `zh`, `zh-cn` and
//!   `zh-tw` all mean "Chinese" here (with langdetect, plain `zh` could never match).
//! - Languages langdetect knows but whatlang does not — Swahili (`sw`, which IFEval uses), Somali
//!   (`so`), Albanian (`sq`) — cannot be checked: [`ResponseLanguage::parse`] reports them as
//!   undetectable so the caller can mark the instruction unsupported instead of failing it.
//! - As with langdetect, text with no letters at all (whatlang returns nothing) counts as followed.
//! - Both detectors always name their best guess, however unsure. They disagree mostly on texts
//!   of a few words (where langdetect's guess is itself close to random): against IFEval's own
//!   verdicts on 158 reference texts, 97% of language-dependent verdicts agree, and on the 100
//!   real model responses among them all but two (a three-word reply and a code listing).

use whatlang::Lang;

/// ISO 639-1 code → whatlang language, for every language whatlang identifies.
const LANGUAGES: &[(&str, Lang)] = &[
    ("af", Lang::Afr),
    ("ak", Lang::Aka),
    ("am", Lang::Amh),
    ("ar", Lang::Ara),
    ("az", Lang::Aze),
    ("be", Lang::Bel),
    ("bg", Lang::Bul),
    ("bn", Lang::Ben),
    ("ca", Lang::Cat),
    ("cs", Lang::Ces),
    ("cy", Lang::Cym),
    ("da", Lang::Dan),
    ("de", Lang::Deu),
    ("el", Lang::Ell),
    ("en", Lang::Eng),
    ("eo", Lang::Epo),
    ("es", Lang::Spa),
    ("et", Lang::Est),
    ("fa", Lang::Pes),
    ("fi", Lang::Fin),
    ("fr", Lang::Fra),
    ("gu", Lang::Guj),
    ("he", Lang::Heb),
    ("hi", Lang::Hin),
    ("hr", Lang::Hrv),
    ("hu", Lang::Hun),
    ("hy", Lang::Hye),
    ("id", Lang::Ind),
    ("it", Lang::Ita),
    ("ja", Lang::Jpn),
    ("jv", Lang::Jav),
    ("ka", Lang::Kat),
    ("km", Lang::Khm),
    ("kn", Lang::Kan),
    ("ko", Lang::Kor),
    ("la", Lang::Lat),
    ("lt", Lang::Lit),
    ("lv", Lang::Lav),
    ("mk", Lang::Mkd),
    ("ml", Lang::Mal),
    ("mr", Lang::Mar),
    ("my", Lang::Mya),
    ("nb", Lang::Nob),
    ("ne", Lang::Nep),
    ("nl", Lang::Nld),
    ("no", Lang::Nob),
    ("or", Lang::Ori),
    ("pa", Lang::Pan),
    ("pl", Lang::Pol),
    ("pt", Lang::Por),
    ("ro", Lang::Ron),
    ("ru", Lang::Rus),
    ("si", Lang::Sin),
    ("sk", Lang::Slk),
    ("sl", Lang::Slv),
    ("sn", Lang::Sna),
    ("sr", Lang::Srp),
    ("sv", Lang::Swe),
    ("ta", Lang::Tam),
    ("te", Lang::Tel),
    ("th", Lang::Tha),
    ("tk", Lang::Tuk),
    ("tl", Lang::Tgl),
    ("tr", Lang::Tur),
    ("uk", Lang::Ukr),
    ("ur", Lang::Urd),
    ("uz", Lang::Uzb),
    ("vi", Lang::Vie),
    ("yi", Lang::Yid),
    ("zh", Lang::Cmn),
    ("zh-cn", Lang::Cmn),
    ("zh-tw", Lang::Cmn),
    ("zu", Lang::Zul),
];

/// Codes langdetect identifies and whatlang cannot.
const UNDETECTABLE: &[&str] = &["sw", "so", "sq"];

/// A language a response must be written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResponseLanguage {
    lang: Lang,
}

/// Why a language code cannot be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LanguageCodeProblem {
    /// A real language code, but the detector cannot recognize that language.
    Undetectable,
    /// Not a language code this module knows.
    Unknown,
}

impl ResponseLanguage {
    /// Parses an ISO 639-1 code as IFEval writes it (`"en"`, `"kn"`, …; case-insensitive).
    pub fn parse(code: &str) -> Result<Self, LanguageCodeProblem> {
        let code = code.trim().to_ascii_lowercase();
        if let Some(&(_, lang)) = LANGUAGES.iter().find(|(known, _)| *known == code) {
            return Ok(ResponseLanguage { lang });
        }
        if UNDETECTABLE.contains(&code.as_str()) {
            Err(LanguageCodeProblem::Undetectable)
        } else {
            Err(LanguageCodeProblem::Unknown)
        }
    }

    /// English.
    pub fn english() -> Self {
        ResponseLanguage { lang: Lang::Eng }
    }

    /// The codes [`ResponseLanguage::parse`] accepts, for error messages.
    pub fn supported_codes() -> Vec<&'static str> {
        LANGUAGES.iter().map(|(code, _)| *code).collect()
    }

    /// Whether `text` is in this language. Text in which no language can be detected counts as
    /// matching, as in IFEval.
    pub fn matches(&self, text: &str) -> bool {
        match whatlang::detect_lang(text) {
            Some(detected) => detected == self.lang,
            None => true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_codes_and_explains_failures() {
        assert!(ResponseLanguage::parse("kn").is_ok());
        assert!(ResponseLanguage::parse("EN").is_ok());
        assert_eq!(
            ResponseLanguage::parse("sw"),
            Err(LanguageCodeProblem::Undetectable)
        );
        assert_eq!(
            ResponseLanguage::parse("xx"),
            Err(LanguageCodeProblem::Unknown)
        );
        assert!(ResponseLanguage::supported_codes().contains(&"ta"));
    }

    #[test]
    fn detects_common_languages() {
        let cases = [
            ("en", "The quick brown fox jumps over the lazy dog while the farmer watches from the porch."),
            ("de", "Der schnelle braune Fuchs springt über den faulen Hund, während der Bauer zusieht."),
            ("fr", "Le renard brun rapide saute par-dessus le chien paresseux pendant que le fermier regarde."),
            ("hi", "तेज़ भूरी लोमड़ी आलसी कुत्ते के ऊपर कूदती है जबकि किसान बरामदे से देखता है।"),
            ("ru", "Быстрая коричневая лиса прыгает через ленивую собаку, пока фермер смотрит с крыльца."),
            ("ja", "素早い茶色の狐が怠け者の犬を飛び越える間、農夫はポーチから見ています。"),
            ("ko", "빠른 갈색 여우가 게으른 개를 뛰어넘는 동안 농부는 현관에서 지켜봅니다."),
        ];
        for (code, text) in cases {
            let language = ResponseLanguage::parse(code).expect("known code");
            assert!(language.matches(text), "{code}: {text}");
            assert!(
                !ResponseLanguage::english().matches(text) || code == "en",
                "{code}"
            );
        }
    }

    #[test]
    fn text_without_letters_counts_as_matching() {
        assert!(ResponseLanguage::parse("fr")
            .expect("fr")
            .matches("12345 !!! ..."));
        assert!(ResponseLanguage::parse("fr").expect("fr").matches(""));
    }
}
