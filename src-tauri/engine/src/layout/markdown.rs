//! A page as Markdown, following its regions in reading order: headings, paragraphs, list
//! items, tables (pipe tables), captions, key-value pairs; page headers and footers left out.

use crate::model::{Label, PageLayout, Region};

pub fn page_markdown(layout: &PageLayout) -> String {
    let mut blocks: Vec<String> = Vec::new();
    for r in &layout.regions {
        let text = one_line(&r.text);
        let block = match r.label {
            Label::PageHeader | Label::PageFooter => continue,
            Label::Title => format!("# {text}"),
            Label::SectionHeader => format!("## {text}"),
            Label::ListItem => format!("- {}", strip_marker(&text)),
            Label::Caption => format!("*{text}*"),
            Label::Formula => format!("$$ {text} $$"),
            Label::Table => table(r).unwrap_or(text),
            Label::KeyValue => match &r.pair {
                Some(p) => format!("**{}:** {}", p.key, p.value),
                None => text,
            },
            Label::Picture if text.is_empty() => "![picture]()".to_string(),
            Label::Picture => format!("![picture]() {text}"),
            Label::Footnote => format!("<sup>{text}</sup>"),
            Label::Text => text,
        };
        if block.trim().is_empty() {
            continue;
        }
        // Consecutive list items and pairs stay together; everything else is its own block.
        let tight = matches!(r.label, Label::ListItem | Label::KeyValue);
        match blocks.last_mut() {
            Some(prev)
                if tight
                    && (prev.starts_with("- ") && r.label == Label::ListItem
                        || prev.starts_with("**") && r.label == Label::KeyValue) =>
            {
                prev.push('\n');
                prev.push_str(&block);
            }
            _ => blocks.push(block),
        }
    }
    blocks.join("\n\n")
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn strip_marker(text: &str) -> &str {
    match text.split_once(' ') {
        Some((first, rest))
            if super::text_shapes::is_list_marker(first)
                && [
                    "•", "◦", "▪", "‣", "-", "–", "—", // is_list_marker's bullets but the tick
                    "*", "·", "○", "■", "□", "►",
                ]
                .contains(&first) =>
        {
            rest
        }
        _ => text,
    }
}

fn table(r: &Region) -> Option<String> {
    let cells = r.cells.as_ref()?;
    let (rows, cols) = r.grid_size()?;
    let mut grid = vec![vec![String::new(); cols as usize]; rows as usize];
    for c in cells {
        grid[c.row as usize][c.col as usize] = one_line(&c.text).replace('|', "\\|");
    }
    let line = |row: &Vec<String>| format!("| {} |", row.join(" | "));
    let mut out = vec![line(&grid[0]), format!("|{}", "---|".repeat(cols as usize))];
    out.extend(grid[1..].iter().map(line));
    Some(out.join("\n"))
}
