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
@click.option("--blank", type=click.FloatRange(0.0, 1.0), default=0.0, show_default=True,
              help="Share of the unwritten bands of cells also cut, labelled with an empty text.")
@_workers
def synth_lines(n: int, seed: int, out: Path, fonts: str, template: str | None, ageing: str, blank: float,
                workers: int | None) -> None:
    """Write N line images and OUT/labels.tsv (filename<TAB>text) cut from synthetic pages."""
    from hotich.datasets.synth.batch import write_lines

    summary = write_lines(n, seed, _synth_options(fonts, ageing, template), out, workers, blank=blank)
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


_resume = click.option("--resume", is_flag=True, help="Continue from last.pt in the config's checkpoint_dir.")
_max_steps = click.option("--max-steps", type=click.IntRange(min=1), default=None,
                          help="Stop once this many steps are done (the schedule is unchanged; --resume goes on).")


def _train_config(model: str):
    return click.option("--config", "config_path", type=click.Path(exists=True, dir_okay=False, path_type=Path),
                        default=Path(f"training/configs/{model}.yaml"), show_default=True, help="Training YAML.")


@train.command("recognizer")
@click.option("--config", "config_path", type=click.Path(exists=True, dir_okay=False, path_type=Path), required=True,
              help="Training YAML (e.g. training/configs/recognizer.yaml).")
@_resume
@click.option("--init", "init", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="Start from this checkpoint (e.g. models/weights/recognizer/model.pt) with a fresh schedule.")
@click.option("--data", type=click.Path(exists=True, file_okay=False, path_type=Path), default=None,
              help="Fine-tune on this folder of corrected lines (images + labels.tsv).")
@_max_steps
def train_recognizer(config_path: Path, resume: bool, init: Path | None, data: Path | None,
                     max_steps: int | None) -> None:
    """Train the CTC line recogniser; --init MODEL warm-starts it, --init MODEL --data DIR fine-tunes it on
    corrected lines."""
    if resume and init is not None:
        raise click.UsageError("--resume continues from last.pt; it takes no --init")
    if data is not None and init is None and not resume:
        raise click.UsageError("fine-tuning on --data DIR needs --init MODEL, the model to start from")
    from hotich.training.recognizer import load_train_config
    from hotich.training.recognizer import train_recognizer as run

    result = run(load_train_config(config_path), resume=resume, init=init, data=data, max_steps=max_steps)
    best = f"{result.best_set} CER {result.best_cer:.2%}" if result.best_cer is not None else "no evaluation yet"
    click.echo(f"step {result.step}: {result.lines_per_s * 60:.0f} lines/min; best {best}; "
               f"checkpoints in {result.checkpoint_dir}")


@train.command("average")
@click.argument("checkpoints", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True, help="The averaged checkpoint.")
@click.option("--weight", "weights", type=click.FloatRange(min=0.0), multiple=True,
              help="One per checkpoint, in order (default: equal).")
def train_average(checkpoints: tuple[Path, ...], out: Path, weights: tuple[float, ...]) -> None:
    """Average recogniser CHECKPOINTS weight by weight (e.g. a continued run and the model it started from:
    the average often keeps the run's gain and undoes a loss on real handwriting); `hotich export recognizer`
    turns the result into a shippable model."""
    from hotich.training.averaging import average_checkpoints

    try:
        average_checkpoints(checkpoints, out, weights or None)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"{out}: the average of {len(checkpoints)} checkpoints")


@train.command("layout")
@_train_config("layout")
@_resume
@_max_steps
def train_layout(config_path: Path, resume: bool, max_steps: int | None) -> None:
    """Train the template-and-era identifier on folders of synthetic pages (see the config's header)."""
    from hotich.training.layout import load_train_config
    from hotich.training.layout import train_layout as run

    result = run(load_train_config(config_path), resume=resume, max_steps=max_steps)
    best = f"validation accuracy {result.best_acc:.2%}" if result.best_acc is not None else "no evaluation yet"
    click.echo(f"step {result.step} (epoch {result.epoch:.1f}): {result.pages_per_s:.1f} pages/s; best {best}; "
               f"checkpoints in {result.checkpoint_dir}")


@train.command("ruling")
@_train_config("ruling")
@_resume
@_max_steps
def train_ruling(config_path: Path, resume: bool, max_steps: int | None) -> None:
    """Train the ruling detector on synthetic pages with exact ruling masks (made on the first run)."""
    from hotich.training.ruling import load_train_config
    from hotich.training.ruling import train_ruling as run

    result = run(load_train_config(config_path), resume=resume, max_steps=max_steps)
    best = f"validation mean IoU {result.best_iou:.3f}" if result.best_iou is not None else "no evaluation yet"
    click.echo(f"step {result.step} (epoch {result.epoch}); best {best}; checkpoints in {result.checkpoint_dir}")


def _line_set(name: str):
    from hotich.datasets.lines import line_set

    try:
        return line_set(name)
    except (FileNotFoundError, ValueError) as exc:
        raise click.BadParameter(str(exc)) from None


_line_set_help = "a folder with labels.tsv, or kalapa-train / kalapa-val / kalapa-val-a / kalapa-val-b"
_model_dir = click.option("--model", "model_dir", type=click.Path(exists=True, file_okay=False, path_type=Path),
                          default=None, help="Recogniser folder (model.json + ONNX); default: the shipped one.")


@train.command("language")
@click.option("--lines", "line_sets", multiple=True, required=True,
              help=f"Line sets whose text the model is counted on (repeat): {_line_set_help}.")
@click.option("--order", type=click.IntRange(min=1), default=6, show_default=True)
@click.option("--tune-on", default="kalapa-val-a", show_default=True,
              help="Validation lines the fusion weight and bonus are chosen on (read by the shipped recogniser).")
@click.option("--calibrate-on", "calibrate_on", multiple=True,
              help="More validation lines (repeat) the fused confidence is fitted on, besides the tuning lines: "
              "synthetic lines in held-out fonts, from a seed no other set uses.")
@click.option("--threads", type=click.IntRange(min=1), default=None, help="ONNX Runtime threads (default: all).")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=Path("models/weights/language"),
              show_default=True)
def train_language(line_sets: tuple[str, ...], order: int, tune_on: str, calibrate_on: tuple[str, ...],
                   threads: int | None, out: Path) -> None:
    """Count the character language model on training lines' text and choose its fusion weights."""
    from dataclasses import asdict

    from hotich.inference.language_prior import LanguagePrior
    from hotich.inference.recognizer import PRIOR_BEAM, LineRecognizer
    from hotich.models.language import CharLanguageModel
    from hotich.training.language import LineFrames, fit_confidence, tune_fusion

    overlap = set(line_sets) & {tune_on, *calibrate_on, "kalapa-val", "kalapa-val-a", "kalapa-val-b"}
    if overlap:
        raise click.BadParameter(f"{sorted(overlap)} are validation lines: count the model on training lines only")
    texts = {name: [s.text for s in _line_set(name)] for name in line_sets}
    model = CharLanguageModel.fit((t for lines in texts.values() for t in lines), order)
    recognizer = LineRecognizer(threads=threads)
    tuning = LineFrames.read(recognizer, _line_set(tune_on))
    fusion = tune_fusion(model, recognizer, tuning)
    prior = LanguagePrior(model, fusion.weight, fusion.bonus)
    confidence = fit_confidence(prior, recognizer,
                                [tuning, *(LineFrames.read(recognizer, _line_set(name)) for name in calibrate_on)])
    command = " ".join(["hotich train language", *(f"--lines {name}" for name in line_sets), f"--order {order}",
                        f"--tune-on {tune_on}", *(f"--calibrate-on {name}" for name in calibrate_on)])
    model.save(out, corpus={name: len(lines) for name, lines in texts.items()}, command=command,
               fusion={"weight": fusion.weight, "bonus": fusion.bonus, "beam": PRIOR_BEAM,
                       "confidence": asdict(confidence), "tuned_on": tune_on,
                       "calibrated_on": [tune_on, *calibrate_on], "recognizer": recognizer.version,
                       "cer": round(fusion.cer, 4), "cer_greedy": round(fusion.cer_greedy, 4),
                       "grid": {k: round(v, 4) for k, v in fusion.grid.items()}})
    click.echo(f"{len(model.counts)} histories from {sum(map(len, texts.values()))} lines; fusion weight "
               f"{fusion.weight:g}, bonus {fusion.bonus:g}: {tune_on} CER {fusion.cer_greedy:.2%} greedy -> "
               f"{fusion.cer:.2%} fused; confidence {confidence}; written to {out}")


@main.group("export")
def export() -> None:
    """Turn trained checkpoints into served artifacts."""


def _export_args(command):
    command = click.option("--version", "version", required=True,
                           help="Release version written into the card, e.g. 1.0.")(command)
    command = click.option("--out", type=click.Path(file_okay=False, path_type=Path), required=True)(command)
    return click.argument("checkpoint", type=click.Path(exists=True, dir_okay=False, path_type=Path))(command)


@export.command("recognizer")
@_export_args
@click.option("--parity-on", "parity_on", default=None, help=f"Lines to compare torch and ONNX on: {_line_set_help}.")
@click.option("--parity-limit", type=click.IntRange(min=1), default=500, show_default=True,
              help="Compare on the first N lines only.")
@click.option("--max-width", type=click.IntRange(min=32), default=1024, show_default=True)
def export_recognizer(checkpoint: Path, out: Path, version: str, parity_on: str | None, parity_limit: int,
                      max_width: int) -> None:
    """ONNX fp32 + int8 files, fp16 weights for fine-tuning, and model.json, from a training CHECKPOINT."""
    from hotich.models.export import export_recognizer as run

    samples = _line_set(parity_on)[:parity_limit] if parity_on else None
    card = run(checkpoint, out, version=version, max_width=max_width, parity_samples=samples, parity_set=parity_on)
    for name, f in card["files"].items():
        click.echo(f"{name}: {out / f['file']} ({f['bytes'] / 2**20:.1f} MiB)")
    if "parity" in card:
        p = card["parity"]
        click.echo(f"parity on {p['set']} ({p['n']} lines): CER torch {p['cer_torch']:.2%}, "
                   f"ONNX fp32 {p['cer_fp32']:.2%}, int8 {p['cer_int8']:.2%}")


@export.command("layout")
@_export_args
@click.option("--parity-on", "parity_on", type=click.Path(exists=True, file_okay=False, path_type=Path),
              default=None, help="A folder of pages (`hotich synth pages`) to compare torch and ONNX on.")
@click.option("--parity-limit", type=click.IntRange(min=1), default=64, show_default=True)
def export_layout(checkpoint: Path, out: Path, version: str, parity_on: Path | None, parity_limit: int) -> None:
    """The template identifier's ONNX file and model.json, from a training CHECKPOINT."""
    import cv2

    from hotich.models.layout import export_layout as run

    pages = None
    if parity_on is not None:
        paths = sorted(p for p in parity_on.glob("*.png") if not p.name.endswith(".clean.png"))[:parity_limit]
        pages = [cv2.imread(str(p), cv2.IMREAD_GRAYSCALE) for p in paths]
        if not pages or any(page is None for page in pages):
            raise click.BadParameter(f"no readable page images (*.png) in {parity_on}", param_hint="--parity-on")
    card = run(checkpoint, out, version=version, parity_pages=pages)
    click.echo(f"{out / card['files']['onnx']['file']} ({card['files']['onnx']['bytes'] / 2**20:.1f} MiB)")
    if "parity" in card:
        p = card["parity"]
        click.echo(f"parity on {p['n']} pages: largest logit difference {p['max_abs_logit_diff']:.2e}, "
                   f"top-1 agreement {p['top1_agreement']:.2%}")


@export.command("ruling")
@_export_args
@click.option("--parity-on", "parity_on", type=click.Path(exists=True, file_okay=False, path_type=Path),
              default=None, help="A folder of ruling samples (*.npz, as `hotich train ruling` makes them) to "
                                 "compare torch and ONNX on.")
@click.option("--parity-limit", type=click.IntRange(min=1), default=8, show_default=True)
def export_ruling(checkpoint: Path, out: Path, version: str, parity_on: Path | None, parity_limit: int) -> None:
    """The ruling detector's ONNX file and model.json, from a training CHECKPOINT."""
    from hotich.datasets.ruling import read_ruling_set
    from hotich.models.ruling import export_ruling as run

    pages = None
    if parity_on is not None:
        try:
            pages = [s.gray for s in read_ruling_set(parity_on)[:parity_limit]]
        except FileNotFoundError as exc:
            raise click.BadParameter(str(exc), param_hint="--parity-on") from None
    card = run(checkpoint, out, version=version, parity_pages=pages)
    click.echo(f"{out / card['files']['onnx']['file']} ({card['files']['onnx']['bytes'] / 2**10:.0f} KiB)")
    if "parity" in card:
        p = card["parity"]
        click.echo(f"parity on {p['n']} pages: largest logit difference {p['max_abs_logit_diff']:.2e}, "
                   f"mask agreement {p['mask_agreement']:.4%}")


@main.group()
def calibrate() -> None:
    """Fit confidence calibration."""


@calibrate.command("recognizer")
@_model_dir
@click.option("--on", "on", required=True, help=f"Lines from writers outside training: {_line_set_help}.")
def calibrate_recognizer(model_dir: Path | None, on: str) -> None:
    """Fit the recogniser's temperature on lines and write it into its model.json."""
    from hotich.inference.recognizer import LineRecognizer, read_gray
    from hotich.models.card import load_card, write_card_file
    from hotich.training.calibration import fit_temperature

    samples = _line_set(on)
    recognizer = LineRecognizer(model_dir)
    logits = recognizer.logits([read_gray(s.path) for s in samples])
    result = fit_temperature(logits, recognizer.codec, [s.text for s in samples])
    # The whole section is this fit's: notes of an earlier one would no longer be true.
    card = load_card(recognizer.model_dir)
    card["calibration"] = {"temperature": result.temperature, "fitted_on": on,
                           **{k: v for k, v in vars(result).items() if k != "temperature"}}
    write_card_file(recognizer.model_dir, card)
    click.echo(f"temperature {result.temperature:g} on {result.n} lines ({on}): ECE {result.ece_before:.2%} -> "
               f"{result.ece_after:.2%}, line accuracy {result.line_acc:.2%}; written to {recognizer.model_dir}")


@calibrate.command("stretch")
@_model_dir
@click.option("--on", "on", multiple=True, required=True,
              help=f"Lines from writers or fonts outside training (repeat; each set weighs the same): "
                   f"{_line_set_help}.")
def calibrate_stretch(model_dir: Path | None, on: tuple[str, ...]) -> None:
    """Choose how much the recogniser widens each line before reading it (its card's input.stretch): the
    stretch with the lowest mean greedy CER, ignoring punctuation, over the given line sets."""
    from hotich.inference.recognizer import LineRecognizer
    from hotich.models.card import load_card, write_card_file
    from hotich.training.calibration import fit_stretch

    recognizer = LineRecognizer(model_dir)
    fit = fit_stretch(recognizer, {name: _line_set(name) for name in on})
    card = load_card(recognizer.model_dir)
    card["input"]["stretch"] = fit.stretch
    card["stretch"] = {"chosen": fit.stretch, "fitted_on": list(on), "command": "hotich calibrate stretch " + " ".join(
        f"--on {name}" for name in on), "objective": "lowest mean greedy CER without punctuation over the sets",
        "cer_nopunct": {f"{s:g}": {name: round(v, 5) for name, v in per_set.items()}
                        for s, per_set in fit.cer_nopunct.items()}}
    write_card_file(recognizer.model_dir, card)
    for stretch, per_set in fit.cer_nopunct.items():
        figures = "  ".join(f"{name} {v:7.2%}" for name, v in per_set.items())
        click.echo(f"{'*' if stretch == fit.stretch else ' '} stretch {stretch:<5g} {figures}")
    click.echo(f"stretch {fit.stretch:g} written to {recognizer.model_dir}. The temperature, the language model's "
               f"fusion and the review thresholds were fitted on the old readings: run `hotich calibrate "
               f"recognizer`, `hotich train language` and `hotich calibrate routing` again.")


@calibrate.command("routing")
@click.argument("pages_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@_model_dir
@click.option("--threads", type=click.IntRange(min=1), default=None, help="ONNX Runtime threads (default: all).")
@click.option("--limit", type=click.IntRange(min=1), default=None, help="Use only the first N pages.")
def calibrate_routing(pages_dir: Path, model_dir: Path | None, threads: int | None, limit: int | None) -> None:
    """Choose each field type's review threshold on PAGES_DIR (validation pages from `hotich synth pages`, never
    the pages you report on) so that accepted fields are at least 99.5% right with 95% confidence; write them
    into the recogniser's model.json."""
    from hotich.evaluation.pages import evaluate_pages
    from hotich.inference.pipeline import Pipeline
    from hotich.inference.routing import RoutingPolicy, fit_thresholds
    from hotich.models.card import update_card

    try:
        pipeline = Pipeline(model_dir, threads=threads)
        _, outcomes = evaluate_pages(pipeline, pages_dir, limit=limit)
    except (FileNotFoundError, ValueError) as exc:
        raise click.ClickException(str(exc)) from None
    policy = RoutingPolicy(thresholds=fit_thresholds(outcomes), fitted_on=str(pages_dir),
                           fitted_with=pipeline.model_versions)
    update_card(pipeline.recognizer.model_dir, routing=policy.model_dump(mode="json"))
    for field_type, t in policy.thresholds.items():
        threshold = "review all" if t.threshold is None else f"threshold {t.threshold:.4f}"
        accuracy = "-" if t.accepted_accuracy is None else f"{t.accepted_accuracy:.2%}"
        click.echo(f"{field_type:<18} {t.n:>6} fields  {threshold:<20} accepted {t.accepted_share:7.2%}  "
                   f"right when accepted {accuracy}")
    click.echo(f"written to {pipeline.recognizer.model_dir / 'model.json'}")


@main.group("eval")
def evaluate() -> None:
    """Evaluate models on datasets."""


@evaluate.command("lines")
@click.argument("dataset")
@_model_dir
@click.option("--variant", type=click.Choice(["int8", "fp32"]), default=None, help="Default: the card's.")
@click.option("--engine", "engines", type=click.Choice(["hotich", "tesseract"]), multiple=True,
              help="Repeat to compare engines in one run (default: hotich).")
@click.option("--beam", type=click.IntRange(min=1), default=1, show_default=True, help="Beam width (1: greedy).")
@click.option("--batch-size", type=click.IntRange(min=1), default=32, show_default=True)
@click.option("--threads", type=click.IntRange(min=1), default=None, help="ONNX Runtime threads (default: all).")
@click.option("--limit", type=click.IntRange(min=1), default=None, help="Score only the first N lines.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON (keys cer, wer, cer_nopunct, line_acc, ece, "
              "lines_per_s, n); one object per engine, keyed by engine when there are several.")
@click.option("--errors", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write every misread line (TSV: path, reference, text, confidence) here.")
@click.option("--record", is_flag=True, help="Also record the hotich figures in the model's card, under DATASET.")
@click.option("--language", is_flag=True, help="Weigh the hotich readings with the shipped character language "
              "model (a beam search at least 10 wide, with the weights its card records).")
def eval_lines(dataset: str, model_dir: Path | None, variant: str | None, engines: tuple[str, ...], beam: int,
               batch_size: int, threads: int | None, limit: int | None, as_json: bool, errors: Path | None,
               record: bool, language: bool) -> None:
    """Score line readers on DATASET: a folder with labels.tsv, or kalapa-train / kalapa-val / kalapa-val-a / -b."""
    from hotich.evaluation.lines import HotichEngine, TesseractEngine, evaluate_lines
    from hotich.inference.language_prior import LanguagePrior
    from hotich.inference.recognizer import LineRecognizer
    from hotich.models.card import update_card

    samples = _line_set(dataset)[:limit]
    prior = LanguagePrior.shipped() if language else None
    results = {}
    for name in engines or ("hotich",):
        if name == "hotich":
            recognizer = LineRecognizer(model_dir, variant=variant, threads=threads)
            engine = HotichEngine(recognizer, beam_width=beam, batch_size=batch_size, prior=prior)
            model = recognizer.version + (" + language model" if prior else "")
        else:
            try:
                engine, model = TesseractEngine(), "tesseract vie"
            except FileNotFoundError as exc:
                raise click.ClickException(str(exc)) from None
        evaluation, lines = evaluate_lines(engine, samples, model=model)
        results[name] = evaluation
        if errors is not None:
            path = errors.with_name(f"{errors.stem}.{name}{errors.suffix}") if len(engines) > 1 else errors
            path.write_text("".join(f"{r.path}\t{r.reference}\t{r.text}\t{r.confidence:.4f}\n"
                                    for r in lines if r.text != r.reference), encoding="utf-8")
        if record and name == "hotich":
            key = f"{dataset} with the language model" if prior else dataset
            update_card(recognizer.model_dir, metrics={key: evaluation.model_dump(exclude={"engine"})})
    if as_json:
        dumps = {name: e.model_dump() for name, e in results.items()}
        click.echo(json.dumps(next(iter(dumps.values())) if len(dumps) == 1 else dumps, ensure_ascii=False, indent=1))
        return
    for e in results.values():
        click.echo(f"{e.engine:<10} {e.model}: {e.n} lines  CER {e.cer:.2%}  WER {e.wer:.2%}  CER no punct. "
                   f"{e.cer_nopunct:.2%}  line acc. {e.line_acc:.2%}  ECE {e.ece:.2%}  {e.lines_per_s:.0f} lines/s")


@evaluate.command("layout")
@click.argument("pages_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--model", "model_dir", type=click.Path(exists=True, file_okay=False, path_type=Path), default=None,
              help="Template identifier folder (model.json + ONNX); default: the shipped one.")
@click.option("--threads", type=click.IntRange(min=1), default=None, help="ONNX Runtime threads (default: all).")
@click.option("--limit", type=click.IntRange(min=1), default=None, help="Score only the first N pages.")
@click.option("--draw", "draw_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Draw the detected fields over the hardest pages (lowest field IoU) into this folder.")
@click.option("--draw-n", type=click.IntRange(min=1), default=4, show_default=True)
@click.option("--classical-ruling", is_flag=True, help="Register on the morphology's ruling, not the learned model's.")
@click.option("--record", is_flag=True, help="Also record the figures in the identifier's card, under PAGES_DIR.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON (keys template_acc, record_count_acc, "
              "field_iou_mean, field_iou_ge_07, pages_per_s, n, by_era, by_ageing).")
def eval_layout(pages_dir: Path, model_dir: Path | None, threads: int | None, limit: int | None,
                draw_dir: Path | None, draw_n: int, classical_ruling: bool, record: bool, as_json: bool) -> None:
    """Score the whole layout stage on PAGES_DIR, a folder written by `hotich synth pages`."""
    from hotich.evaluation.layout import evaluate_layout
    from hotich.inference.layout.pipeline import LayoutDetector

    try:
        detector = LayoutDetector(model_dir, threads=threads, learned_ruling=not classical_ruling)
        e = evaluate_layout(pages_dir, detector, limit=limit, draw_dir=draw_dir, draw_n=draw_n)
    except (FileNotFoundError, ValueError) as exc:
        raise click.ClickException(str(exc)) from None
    if record:
        from hotich.inference.layout.identify import CARD_FORMAT
        from hotich.models.card import update_card

        update_card(detector.identifier.model_dir, CARD_FORMAT,
                    metrics={f"layout stage on {pages_dir}": e.model_dump(exclude={"pages_per_s"})})
    if as_json:
        click.echo(json.dumps(e.model_dump(), ensure_ascii=False, indent=1))
        return

    def row(name: str, f) -> str:
        return (f"{name:<16} {f.n:>5} pages  template {f.template_acc:7.2%}  record count {f.record_count_acc:7.2%}  "
                f"field IoU {f.field_iou_mean:.3f}  IoU>=0.7 {f.field_iou_ge_07:7.2%}")

    click.echo(row("all", e) + f"  {e.pages_per_s:.2f} pages/s ({1 / e.pages_per_s:.3f} s/page)")
    for group, figures in (("era", e.by_era), ("ageing", e.by_ageing)):
        for name, f in figures.items():
            click.echo(row(f"{group} {name}", f))


@evaluate.command("pages")
@click.argument("pages_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@_model_dir
@click.option("--threads", type=click.IntRange(min=1), default=None, help="ONNX Runtime threads (default: all).")
@click.option("--limit", type=click.IntRange(min=1), default=None, help="Score only the first N pages.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON (keys n, exact, accepted_share, accepted_accuracy, "
              "pages, template_acc, pages_per_s, latency_p50_s, latency_p95_s, by_type).")
@click.option("--language/--no-language", default=True, show_default=True,
              help="Weigh unsure free-text lines by the shipped character language model.")
def eval_pages(pages_dir: Path, model_dir: Path | None, threads: int | None, limit: int | None,
               as_json: bool, language: bool) -> None:
    """Read every page of PAGES_DIR (from `hotich synth pages`) with the whole pipeline and score its fields:
    exact values, the share accepted without review and how often the accepted ones are right."""
    from hotich.evaluation.pages import evaluate_pages
    from hotich.inference.pipeline import Pipeline

    try:
        e, _ = evaluate_pages(Pipeline(model_dir, threads=threads, language=language), pages_dir, limit=limit)
    except (FileNotFoundError, ValueError) as exc:
        raise click.ClickException(str(exc)) from None
    if as_json:
        click.echo(json.dumps(e.model_dump(), ensure_ascii=False, indent=1))
        return

    def row(name: str, f) -> str:
        accuracy = "-" if f.accepted_accuracy is None else f"{f.accepted_accuracy:.2%}"
        return (f"{name:<8} {f.n:>6} fields  exact {f.exact:7.2%}  accepted {f.accepted_share:7.2%}  "
                f"right when accepted {accuracy}")

    click.echo(row("all", e) + f"  ({e.pages} pages, template {e.template_acc:.2%}, {e.pages_per_s:.2f} pages/s, "
               f"p50 {e.latency_p50_s:.2f} s, p95 {e.latency_p95_s:.2f} s)")
    for field_type, f in e.by_type.items():
        click.echo(row(field_type, f))


@evaluate.command("places")
@click.option("--n", "n", type=click.IntRange(min=1), default=2000, show_default=True, help="Places to read.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON (keys n, found, right, places_per_s, by_period).")
def eval_places(n: int, seed: int, as_json: bool) -> None:
    """Places as pages of 1956-2024 wrote them (old province names included), read back to the commune and
    province they lie in today: the share given a unit and the share given the right one, per period."""
    from hotich.evaluation.places import evaluate_places

    e = evaluate_places(n, seed)
    if as_json:
        click.echo(json.dumps(e.model_dump(), ensure_ascii=False, indent=1))
        return
    click.echo(f"all        {e.n:>5} places  unit found {e.found:7.2%}  right {e.right:7.2%}  "
               f"({e.places_per_s:.0f} places/s)")
    for period, f in e.by_period.items():
        click.echo(f"{period:<10} {f.n:>5} places  unit found {f.found:7.2%}  right {f.right:7.2%}")


@evaluate.command("units")
@click.argument("datasets", nargs=-1, required=True)
@click.option("--height", type=click.IntRange(min=8), default=32, show_default=True)
def eval_units(datasets: tuple[str, ...], height: int) -> None:
    """CTC frame budget of NFC vs NFD output units on line DATASETS (folders or kalapa-* names)."""
    from hotich.evaluation.units import unit_budget

    for dataset in datasets:
        samples = _line_set(dataset)
        for units in ("nfc", "nfd"):
            b = unit_budget(samples, units, height)
            click.echo(f"{dataset:<24} {units}: {b.classes} classes, {b.units_per_line:.1f} units/line, "
                       f"{b.frames_per_unit:.2f} frames per needed frame, {b.infeasible:.2%} infeasible, "
                       f"{b.tight:.2%} under 2x slack ({b.n} lines)")



@main.command("recognize")
@click.argument("pages", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@_model_dir
@click.option("--threads", type=click.IntRange(min=1), default=None, help="ONNX Runtime threads (default: all).")
@click.option("--json", "as_json", is_flag=True, help="Print one page result (JSON) per page, one per line.")
def recognize(pages: tuple[Path, ...], model_dir: Path | None, threads: int | None, as_json: bool) -> None:
    """Read PAGES (images, or PDFs: every page) and print every field of every registration."""
    from hotich.inference.images import BadInput, decode_image, is_pdf, pdf_pages
    from hotich.inference.pipeline import Pipeline

    pipeline = Pipeline(model_dir, threads=threads)
    for path in pages:
        data = path.read_bytes()
        try:
            images = list(pdf_pages(data, max_pages=10_000)) if is_pdf(data) else [decode_image(data)]
        except BadInput as exc:
            raise click.ClickException(f"{path}: {exc}") from None
        for n, image in enumerate(images, start=1):
            page_id = f"{path.stem}-p{n}" if len(images) > 1 else path.stem
            result = pipeline.read_page(image, page_id=page_id, filename=path.name)
            if as_json:
                click.echo(result.model_dump_json())
                continue
            click.echo(f"{page_id}: {result.template_id} ({result.template_confidence:.1%}), "
                       f"{len(result.records)} registrations, {result.timings_ms['total'] / 1000:.2f} s")
            for record in result.records:
                click.echo(f"  registration {record.index + 1}")
                for f in record.fields:
                    flag = "REVIEW" if f.needs_review else "ok"
                    issues = f"  [{', '.join(i.code for i in f.issues)}]" if f.issues else ""
                    click.echo(f"    {f.key:<28} {f.value or '':<40} {f.confidence:6.1%} {flag}{issues}")


@main.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=click.IntRange(1, 65535), default=8000, show_default=True)
def serve(host: str, port: int) -> None:
    """Run the HTTP service (settings from HOTICH_* environment variables; docs at /docs). On a database with
    no API key yet, an admin key is created and printed once."""
    import uvicorn
    from sqlalchemy import func, select

    from hotich.server.app import create_app
    from hotich.server.auth import create_key
    from hotich.server.storage import ApiKey

    with _key_sessions()() as session:
        if not session.scalar(select(func.count()).select_from(ApiKey)):
            _, key = create_key(session, "admin", "first start")
            click.echo(f"first start: admin API key {key} (shown once; more with `hotich keys create`)")
    uvicorn.run(create_app(), host=host, port=port)


@main.group()
def keys() -> None:
    """API keys of the service (stored hashed in its database)."""


def _key_sessions():
    from hotich.server.settings import Settings
    from hotich.server.storage import connect, migrate

    settings = Settings.from_env()
    migrate(settings.database)
    return connect(settings.database)[1]


@keys.command("create")
@click.option("--role", type=click.Choice(["reader", "operator", "admin"]), required=True)
@click.option("--name", default="", help="Who or what the key is for.")
def keys_create(role: str, name: str) -> None:
    """Create a key and print it: it is shown this once."""
    from hotich.server.auth import create_key

    with _key_sessions()() as session:
        record, key = create_key(session, role, name)
    click.echo(key)
    click.echo(f"key {record.id} ({role}) created; store it now, it cannot be shown again", err=True)


@keys.command("list")
def keys_list() -> None:
    """Every key: id, role, name, prefix, created, revoked."""
    from sqlalchemy import select

    from hotich.server.storage import ApiKey

    with _key_sessions()() as session:
        for k in session.scalars(select(ApiKey).order_by(ApiKey.id)):
            revoked = f"revoked {k.revoked_at:%Y-%m-%d}" if k.revoked_at else "active"
            click.echo(f"{k.id:>4}  {k.role:<8} {k.prefix}…  {k.created_at:%Y-%m-%d}  {revoked}  {k.name}")


@keys.command("revoke")
@click.argument("key_id", type=int)
def keys_revoke(key_id: int) -> None:
    """Revoke key KEY_ID (see `hotich keys list`)."""
    from hotich.server.auth import revoke_key

    with _key_sessions()() as session:
        if not revoke_key(session, key_id):
            raise click.ClickException(f"no active key {key_id}")
    click.echo(f"key {key_id} revoked")


@main.command("bench")
@click.argument("pages_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--url", default=None, help="A running service; default: start one here on the embedded defaults.")
@click.option("--key", default=None, help="An operator key of the service at --url.")
@click.option("--clients", default="1,4,16", show_default=True, help="Concurrent clients, comma-separated.")
@click.option("--requests", "n_requests", type=click.IntRange(min=1), default=24, show_default=True,
              help="Page posts per client count.")
@click.option("--upload", "encoding", type=click.Choice(["png", "jpeg"]), default="png", show_default=True,
              help="Send the PNG files as they are, or each re-encoded as a JPEG (quality 90), as scanners and "
                   "cameras send pages.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON rows (clients, requests, ok, busy, pages_per_s, "
              "latency_p50_s, latency_p95_s, stages_p50_ms).")
def bench_command(pages_dir: Path, url: str | None, key: str | None, clients: str, n_requests: int,
                  encoding: str, as_json: bool) -> None:
    """Throughput and latency of POST /v1/pages with the page images of PAGES_DIR (e.g. `hotich synth pages`
    output) under several numbers of concurrent clients."""
    from contextlib import nullcontext

    from hotich.evaluation.bench import bench, local_service, uploads

    pages = sorted(p for p in pages_dir.glob("*.png") if not p.name.endswith(".clean.png"))
    if not pages:
        raise click.ClickException(f"no page images (*.png) in {pages_dir}")
    if url is not None and key is None:
        raise click.UsageError("--url needs --key, an operator key of that service")
    counts = [int(c) for c in clients.split(",") if c.strip()]
    with local_service() if url is None else nullcontext((url, key)) as (service_url, service_key):
        rows = bench(service_url, service_key, uploads(pages[:n_requests], encoding), counts, n_requests)
    if as_json:
        click.echo(json.dumps([r.model_dump() for r in rows], indent=1))
        return
    for r in rows:
        click.echo(f"{r.clients:>3} clients: {r.ok}/{r.requests} pages read ({r.busy} busy)  "
                   f"{r.pages_per_s:.2f} pages/s  p50 {r.latency_p50_s:.2f} s  p95 {r.latency_p95_s:.2f} s")
        click.echo("    the service's p50 per stage: "
                   + ", ".join(f"{stage} {ms:.0f} ms" for stage, ms in r.stages_p50_ms.items()))


@main.command("book")
@click.argument("source", type=click.Path(exists=True, path_type=Path))
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), required=True)
@_model_dir
@click.option("--threads", type=click.IntRange(min=1), default=None, help="ONNX Runtime threads (default: all).")
@click.option("--format", "formats", type=click.Choice(["xlsx", "pdfzip", "json", "csv", "pagexml"]), multiple=True,
              help="Repeat for several (default: xlsx, pdfzip and json).")
def book(source: Path, out: Path, model_dir: Path | None, threads: int | None, formats: tuple[str, ...]) -> None:
    """Read a whole book offline: SOURCE is a PDF, a zip of page images or a folder of them; OUT gets the
    Ministry's Excel, one PDF per registration (zipped) and the page results. Run it again to resume."""
    from hotich.inference.images import BadInput
    from hotich.inference.pipeline import Pipeline
    from hotich.server.offline import read_book

    try:
        written = read_book(source, out, Pipeline(model_dir, threads=threads), formats or ("xlsx", "pdfzip", "json"))
    except (BadInput, FileNotFoundError, ValueError) as exc:
        raise click.ClickException(str(exc)) from None
    for fmt, path in written.items():
        click.echo(f"{fmt:<8} {path}")


if __name__ == "__main__":
    main()
