"""`manage.py scorer_train --unit UNIT --csv FILE`: train the unit's risk model from a labelled CSV
file (columns text,label; label negative/neutral/positive, 负面/中性/正面, or 0/1 = negative/positive)
and use it from then on, as the train button of 研判支持 → 风险模型 does (no actor: set-up code, no
policy check; the audit entry names no one). Bad rows are skipped and listed; a training that fails
exits with the reason and leaves the model in use as it was."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from analysis.management.commands._unit import file_read, unit_of
from analysis.services import scorer_train
from analysis.training import csv_read
from opinion_ops.errors import DomainError


class Command(BaseCommand):
    help = "Train a unit's risk model from a labelled CSV file (text,label)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--unit", metavar="UNIT", required=True, help="the unit's code or id")
        parser.add_argument("--csv", metavar="FILE", required=True, help="a CSV file with columns text,label")

    def handle(self, *args: Any, **options: Any) -> None:
        unit = unit_of(options["unit"])
        try:
            rows = csv_read(file_read(options["csv"]))
            for number, reason in rows.skipped:
                self.stderr.write(f"跳过第 {number} 行：{reason}")
            name = options["csv"].replace("\\", "/").rsplit("/", 1)[-1]
            model = scorer_train(
                organization_id=unit.pk,
                actor=None,
                texts=rows.texts,
                labels=rows.labels,
                source=f"文件 {name}（{len(rows.texts)} 条）",
            )
        except DomainError as error:
            raise CommandError(f"训练失败，继续使用原来的模型：{error.message}") from error
        evaluation = model.evaluation
        self.stdout.write(
            f"{unit.name}：新模型已启用（编号 {model.pk}），训练 {evaluation['n_train']} 条，"
            f"留出 {evaluation['n']} 条，跳过 {len(rows.skipped)} 行"
        )
        self.stdout.write(report_lines(evaluation))


def report_lines(evaluation: dict[str, Any]) -> str:
    lines = [f"accuracy={evaluation['accuracy']:.4f} n={evaluation['n']}"]
    lines.append(f"{'class':<10}{'precision':>10}{'recall':>10}{'f1':>10}{'support':>10}")
    for name, row in evaluation["classes"].items():
        lines.append(f"{name:<10}{row['precision']:>10.4f}{row['recall']:>10.4f}{row['f1']:>10.4f}{row['support']:>10}")
    return "\n".join(lines)
