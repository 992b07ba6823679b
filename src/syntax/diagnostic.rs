//! Recipe diagnostics: what went wrong, where (a span in a source file), and what to do. They are
//! rendered by miette with the source snippet; several are reported together.

use std::fmt;

use miette::{LabeledSpan, NamedSource, SourceCode};

use super::source::{SourceMap, Span};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    Error,
    Warning,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Label {
    pub span: Span,
    pub text: Option<String>,
}

/// One problem found in a recipe. Boxed, so results carrying one stay small.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic(Box<DiagnosticData>);

impl std::ops::Deref for Diagnostic {
    type Target = DiagnosticData;
    fn deref(&self) -> &DiagnosticData {
        &self.0
    }
}

impl std::ops::DerefMut for Diagnostic {
    fn deref_mut(&mut self) -> &mut DiagnosticData {
        &mut self.0
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiagnosticData {
    pub severity: Severity,
    /// A stable identifier such as `tulu::check::unknown-name`, shown with the message and used by
    /// tests.
    pub code: &'static str,
    pub message: String,
    pub primary: Label,
    pub secondary: Vec<Label>,
    pub help: Option<String>,
}

impl Diagnostic {
    pub fn error(code: &'static str, message: impl Into<String>, span: Span) -> Diagnostic {
        Diagnostic(Box::new(DiagnosticData {
            severity: Severity::Error,
            code,
            message: message.into(),
            primary: Label { span, text: None },
            secondary: Vec::new(),
            help: None,
        }))
    }

    pub fn warning(code: &'static str, message: impl Into<String>, span: Span) -> Diagnostic {
        let mut d = Diagnostic::error(code, message, span);
        d.severity = Severity::Warning;
        d
    }

    /// Text shown under the primary span.
    pub fn with_label(mut self, text: impl Into<String>) -> Diagnostic {
        self.primary.text = Some(text.into());
        self
    }

    pub fn with_secondary(mut self, span: Span, text: impl Into<String>) -> Diagnostic {
        self.secondary.push(Label {
            span,
            text: Some(text.into()),
        });
        self
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Diagnostic {
        self.help = Some(help.into());
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// Attach the source text so miette can render the snippet. Labels in another file than the
    /// primary one become related diagnostics of their own.
    pub fn render_with(&self, sources: &SourceMap) -> RenderedDiagnostic {
        let file = sources.get(self.primary.span.file);
        let (same_file, other_files): (Vec<&Label>, Vec<&Label>) = self
            .secondary
            .iter()
            .partition(|l| l.span.file == self.primary.span.file);
        let mut message = self.message.clone();
        let mut labels = Vec::new();
        if fits_a_snippet(file, self.primary.span) {
            labels.push(LabeledSpan::new_with_span(
                self.primary.text.clone(),
                self.primary.span,
            ));
        } else {
            let (line, column) = file.line_col(self.primary.span.start as usize);
            message = format!("{message} (at {}:{line}:{column})", file.name);
        }
        labels.extend(
            same_file
                .into_iter()
                .filter(|l| fits_a_snippet(file, l.span))
                .map(|l| LabeledSpan::new_with_span(l.text.clone(), l.span)),
        );
        let related = other_files
            .into_iter()
            .map(|l| {
                let related = Diagnostic::warning(
                    self.code,
                    l.text.clone().unwrap_or_else(|| "see here".to_string()),
                    l.span,
                );
                related.render_with(sources)
            })
            .collect();
        RenderedDiagnostic {
            severity: self.severity,
            code: self.code,
            message,
            help: self.help.clone(),
            labels,
            source: NamedSource::new(file.name.clone(), file.text.to_string()),
            related,
        }
    }
}

/// Labels further right than this many bytes into their line are not drawn under a snippet: such
/// a line is unreadable anyway, and miette cannot pad an underline past 65,535 columns (a tab
/// takes 4 columns, so 16,000 bytes stay below that).
const MAX_SNIPPET_COLUMN: usize = 16_000;

/// Whether a label at `span` can be drawn under the source line(s) it covers.
fn fits_a_snippet(file: &super::source::SourceFile, span: Span) -> bool {
    let text = file.text.as_str();
    let column = |offset: usize| {
        let offset = offset.min(text.len());
        let line_start = text.as_bytes()[..offset]
            .iter()
            .rposition(|b| *b == b'\n')
            .map_or(0, |nl| nl + 1);
        offset - line_start
    };
    column(span.start as usize) <= MAX_SNIPPET_COLUMN
        && column(span.end as usize) <= MAX_SNIPPET_COLUMN
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// A [`Diagnostic`] with its source text attached, ready for miette.
#[derive(Debug)]
pub struct RenderedDiagnostic {
    severity: Severity,
    code: &'static str,
    message: String,
    help: Option<String>,
    labels: Vec<LabeledSpan>,
    source: NamedSource<String>,
    related: Vec<RenderedDiagnostic>,
}

impl fmt::Display for RenderedDiagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for RenderedDiagnostic {}

impl miette::Diagnostic for RenderedDiagnostic {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(self.code))
    }

    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.severity {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
        })
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        Some(&self.source)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        Some(Box::new(self.labels.iter().cloned()))
    }

    fn related<'a>(&'a self) -> Option<Box<dyn Iterator<Item = &'a dyn miette::Diagnostic> + 'a>> {
        if self.related.is_empty() {
            None
        } else {
            Some(Box::new(
                self.related.iter().map(|r| r as &dyn miette::Diagnostic),
            ))
        }
    }
}

/// Render diagnostics as text: with colors and unicode when `fancy`, plain otherwise (for pipes,
/// logs and snapshot tests).
pub fn render_all(diags: &[Diagnostic], sources: &SourceMap, fancy: bool) -> String {
    use miette::{GraphicalReportHandler, GraphicalTheme};
    let theme = if fancy {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    let handler = GraphicalReportHandler::new_themed(theme)
        .with_width(100)
        .with_links(false);
    let mut out = String::new();
    for diag in diags {
        let rendered = diag.render_with(sources);
        if handler.render_report(&mut out, &rendered).is_err() {
            out.push_str(&diag.message);
            out.push('\n');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_label_far_right_on_a_long_line_renders_without_a_snippet() {
        let mut sources = SourceMap::new();
        let text = format!("let x = {}oops\n", "\t".repeat(20_000));
        let at = text.find("oops").unwrap();
        let file = sources.add("wide.tulu", text);
        let diag = Diagnostic::error("tulu::test", "bad thing", Span::new(file, at, at + 4))
            .with_secondary(Span::new(file, 0, 3), "this binding");
        let out = render_all(&[diag], &sources, false);
        assert!(out.contains("bad thing (at wide.tulu:1:20009)"), "{out}");
        assert!(out.contains("this binding"), "{out}");
    }
}
