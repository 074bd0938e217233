"""The `hotich` command line. Commands are thin: they parse, call the library, and report."""

from __future__ import annotations

import json
from pathlib import Path

import click

AGEING_CHOICES = ["none", "light", "medium", "strong", "mixed"]


@click.group()
@click.version_option(package_name="hotich-ocr")
def main() -> None:
    """hotich-ocr: read handwritten Vietnamese civil-registry books."""


@main.group()
def templates() -> None:
    """Book templates (book type × legal era)."""


@templates.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def templates_list(as_json: bool) -> None:
    """Every shipped template with its id, book type and era."""
    from hotich.templates import list_templates

    rows = [
        {
            "id": t.id,
            "book_type": t.book_type,
            "era": t.era,
            "title": t.title,
            "style": t.layout.style,
            "records_per_page": t.layout.records_per_page,
            "fields": len(t.fields),
            "valid": [t.valid.start.isoformat(), t.valid.end.isoformat()],
        }
        for t in list_templates()
    ]
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=1))
        return
    for r in rows:
        click.echo(f"{r['id']:<28} {r['book_type']:<10} {r['era']:<14} {r['style']:<6} {r['fields']:>3} fields")


@main.group()
def synth() -> None:
    """Synthetic ledger pages and line datasets with exact ground truth."""


def _synth_options(fonts: str, ageing: str, template: str | None):
    from hotich.datasets.synth.pages import SynthOptions
    from hotich.templates import TemplateError, get_template

    if template is not None:
        try:
            get_template(template)
        except TemplateError as exc:
            raise click.BadParameter(str(exc), param_hint="--template") from None
    return SynthOptions(fonts=fonts, ageing=ageing, template=template)


_n = click.option("--n", "n", type=click.IntRange(min=1), required=True, help="How many to make.")
_seed = click.option("--seed", type=int, default=0, show_default=True, help="Same seed, same files.")
_out = click.option("--out", type=click.Path(file_okay=False, path_type=Path), required=True)
_ageing = click.option("--ageing", type=click.Choice(AGEING_CHOICES), default="mixed", show_default=True,
                       help="How old and badly imaged pages look; mixed draws a strength per page.")
_workers = click.option("--workers", type=click.IntRange(min=1), default=None, help="Processes (default: all cores).")


@synth.command("pages")
@_n
@_seed
@_out
@click.option("--template", default=None, help="Template id (see `hotich templates list`); default: all.")
@click.option("--fonts", type=click.Choice(["train", "heldout", "all"]), default="train", show_default=True)
@_ageing
@_workers
def synth_pages(n: int, seed: int, out: Path, template: str | None, fonts: str, ageing: str,
                workers: int | None) -> None:
    """Write N pages: OUT/<page_id>.png, .clean.png, .json (truth) and .xml (PAGE)."""
    from hotich.datasets.synth.batch import write_pages

    summary = write_pages(n, seed, _synth_options(fonts, ageing, template), out, workers)
    if summary.skipped:
        click.echo(f"{summary.skipped} pages were already complete in {out}: kept")
    if summary.pages:
        click.echo(f"{summary.pages} pages in {summary.seconds:.1f} s: {summary.pages_per_s:.2f} pages/s -> {out}")


@synth.command("lines")
@_n
@_seed
@_out
@click.option("--fonts", type=click.Choice(["train", "heldout", "all"]), default="train", show_default=True)
@click.option("--template", default=None, help="Template id; default: all.")
@_ageing
@_workers
def synth_lines(n: int, seed: int, out: Path, fonts: str, template: str | None, ageing: str,
                workers: int | None) -> None:
    """Write N line images and OUT/labels.tsv (filename<TAB>text) cut from synthetic pages."""
    from hotich.datasets.synth.batch import write_lines

    summary = write_lines(n, seed, _synth_options(fonts, ageing, template), out, workers)
    click.echo(f"{summary.items} lines from {summary.pages} pages in {summary.seconds:.1f} s "
               f"({summary.items / summary.seconds:.0f} lines/s) -> {out}")


@synth.command("sheet")
@click.argument("pages_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True)
@click.option("--n", "n", type=click.IntRange(min=1), default=12, show_default=True)
@click.option("--columns", type=click.IntRange(min=1), default=4, show_default=True)
def synth_sheet(pages_dir: Path, out: Path, n: int, columns: int) -> None:
    """A contact sheet (JPEG/PNG) of the first N pages in PAGES_DIR, labelled with template and era."""
    from hotich.datasets.synth.sheet import contact_sheet

    count = contact_sheet(pages_dir, out, n=n, columns=columns)
    click.echo(f"{count} pages -> {out}")


@main.group()
def train() -> None:
    """Train models."""


@train.command("recognizer")
@click.option("--config", "config_path", type=click.Path(exists=True, dir_okay=False, path_type=Path), required=True,
              help="Training YAML (e.g. training/configs/recognizer.yaml).")
@click.option("--resume", is_flag=True, help="Continue from last.pt in the config's checkpoint_dir.")
@click.option("--init", "init", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="Fine-tune: start from this checkpoint (needs --data).")
@click.option("--data", type=click.Path(exists=True, file_okay=False, path_type=Path), default=None,
              help="Fine-tune on this folder of corrected lines (images + labels.tsv).")
@click.option("--max-steps", type=click.IntRange(min=1), default=None,
              help="Stop once this many steps are done (the schedule is unchanged; --resume goes on).")
def train_recognizer(config_path: Path, resume: bool, init: Path | None, data: Path | None,
                     max_steps: int | None) -> None:
    """Train the CTC line recogniser, or fine-tune one with --init MODEL --data DIR."""
    if resume and init is not None:
        raise click.UsageError("--resume continues from last.pt; it takes no --init")
    if (init is None) != (data is None) and not resume:
        raise click.UsageError("fine-tuning needs both --init MODEL and --data DIR")
    from hotich.training.recognizer import load_train_config
    from hotich.training.recognizer import train_recognizer as run

    result = run(load_train_config(config_path), resume=resume, init=init, data=data, max_steps=max_steps)
    best = f"{result.best_set} CER {result.best_cer:.2%}" if result.best_cer is not None else "no evaluation yet"
    click.echo(f"step {result.step}: {result.lines_per_s * 60:.0f} lines/min; best {best}; "
               f"checkpoints in {result.checkpoint_dir}")


if __name__ == "__main__":
    main()
