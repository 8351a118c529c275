"""`manage.py scorer_eval --unit UNIT --csv FILE [--default]`: score a labelled CSV file (text,label)
with the unit's scorer — its model in use, else the default scorer — and print accuracy and
per-class precision/recall/F1. Bad rows are skipped and listed. A file labelled only 0/1
(negative/positive) is scored as such: a 中性 prediction counts as a miss."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from analysis.management.commands._unit import file_read, unit_of
from analysis.management.commands.scorer_train import report_lines
from analysis.models import AnalysisSettings
from analysis.scoring import scorer_default, scorer_for_unit
from analysis.services import unit_risk_words
from analysis.training import csv_read, evaluation_of
from opinion_ops.errors import DomainError


class Command(BaseCommand):
    help = "Evaluate a unit's risk scorer on a labelled CSV file (text,label)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--unit", metavar="UNIT", required=True, help="the unit's code or id")
        parser.add_argument("--csv", metavar="FILE", required=True, help="a CSV file with columns text,label")
        parser.add_argument("--default", action="store_true", help="the default scorer even if the unit has a model")

    def handle(self, *args: Any, **options: Any) -> None:
        unit = unit_of(options["unit"])
        try:
            rows = csv_read(file_read(options["csv"]))
        except DomainError as error:
            raise CommandError(str(error.message)) from error
        for number, reason in rows.skipped:
            self.stderr.write(f"跳过第 {number} 行：{reason}")
        if not rows.texts:
            raise CommandError("文件中没有可评估的行。")
        scorer = scorer_default() if options["default"] else scorer_for_unit(unit.pk)
        words = unit_risk_words(AnalysisSettings.objects.filter(organization_id=unit.pk).first())
        predicted = [scorer.score(text, unit_words=words).label for text in rows.texts]
        evaluation = evaluation_of(rows.labels, predicted)
        name = "默认评分器" if scorer.name == "lexicon" else f"本单位模型（{scorer.name}）"
        self.stdout.write(f"{unit.name}：{name}，评估 {len(rows.texts)} 条，跳过 {len(rows.skipped)} 行")
        self.stdout.write(report_lines(evaluation))
