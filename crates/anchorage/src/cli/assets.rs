//! What a package installs beside the binary, made from the command line's
//! own definition: shell completions (`anchorage completions SHELL`) and
//! man pages (`anchorage manpages DIR`, one page per command, named as
//! git names its pages: `anchorage-roa-add.1`).

use std::path::Path;

use anyhow::Context;

/// Prints the completion script for `shell` of command line `cmd`.
pub fn completions(mut cmd: clap::Command, shell: clap_complete::Shell) -> anyhow::Result<()> {
    clap_complete::generate(shell, &mut cmd, "anchorage", &mut std::io::stdout());
    Ok(())
}

/// Writes a man page for `cmd` and for each of its visible subcommands,
/// at any depth, into `dir`; returns how many.
pub fn manpages(cmd: clap::Command, dir: &Path) -> anyhow::Result<usize> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let mut cmd = cmd;
    cmd.build();
    write_pages(&cmd, "anchorage", dir)
}

fn write_pages(cmd: &clap::Command, name: &str, dir: &Path) -> anyhow::Result<usize> {
    // The page's command is named as the page, so its synopsis reads
    // `anchorage-roa-add`, and man finds it by that name.
    let page = cmd
        .clone()
        .name(name.to_string())
        .bin_name(name.replace('-', " "));
    let mut out = Vec::new();
    clap_mangen::Man::new(page).render(&mut out)?;
    let path = dir.join(format!("{name}.1"));
    std::fs::write(&path, out).with_context(|| format!("writing {}", path.display()))?;
    let mut n = 1;
    for sub in cmd.get_subcommands() {
        if sub.is_hide_set() || sub.get_name() == "help" {
            continue;
        }
        n += write_pages(sub, &format!("{name}-{}", sub.get_name()), dir)?;
    }
    Ok(n)
}
