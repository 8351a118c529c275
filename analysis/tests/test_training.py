"""scorer_train and scorer_eval: a unit's model trained from a CSV file (or its labels), bad rows
skipped with their reason, too few labels or one class refused, a failed training never replacing
the model in use, roll back to the previous model; and the figures on the shipped dataset."""

import csv
import io
import tempfile
from pathlib import Path

from django.core.management import CommandError, call_command

from analysis.models import PostAnalysis, ScorerModel
from analysis.scoring import scorer_for_unit
from analysis.services import scorer_rollback, scorer_train
from analysis.tests.base import AnalysisTestCase
from analysis.training import csv_read
from opinion_ops.errors import DomainError
from organizations.audit import AuditEntry

DATASET = Path(__file__).resolve().parent.parent / "data" / "weibo_style_labelled.csv"

NEGATIVE = [
    "{}食堂饭菜里有虫子，孩子吃了肚子疼，学校不管",
    "{}乱收费，家长投诉了好几次都没有回音",
    "{}的老师打学生，家长要求给个说法",
    "{}隐瞒事故，求扩散",
    "在{}排队三个小时，工作人员态度恶劣",
    "{}拖欠工资半年，工人去讨薪被赶出来",
]
POSITIVE = [
    "感谢{}的老师们，辛苦了",
    "给{}点赞，服务特别周到",
    "{}的医生很耐心，谢谢你们",
    "{}这次处理很及时，为你们点赞",
    "{}的饭菜好吃又干净，孩子很开心",
    "{}的工作人员热情贴心，好评",
]
PLACES = ["示范区一中", "实验小学", "人民医院", "中心医院", "街道办", "车管所"]


def rows(*templates_and_label: tuple[list[str], str]) -> list[tuple[str, str]]:
    return [(t.format(p), label) for templates, label in templates_and_label for t in templates for p in PLACES]


def csv_file(rows: list[tuple[str, str]], header: tuple[str, ...] = ("text", "label")) -> str:
    handle = tempfile.NamedTemporaryFile("w", suffix=".csv", delete=False, encoding="utf-8", newline="")
    writer = csv.writer(handle)
    writer.writerow(header)
    writer.writerows(rows)
    handle.close()
    _made.append(handle.name)
    return handle.name


_made: list[str] = []


def tearDownModule() -> None:
    for name in _made:
        Path(name).unlink(missing_ok=True)


def run(command: str, *args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command(command, *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


class TrainCommandTests(AnalysisTestCase):
    def test_it_trains_and_uses_a_model_and_skips_bad_rows_with_their_reason(self) -> None:
        good = rows((NEGATIVE, "negative"), (POSITIVE, "positive"))
        bad = [
            ("", "negative"),
            ("😂😂😂", "positive"),
            ("很好", "maybe"),
            ("x" * 20_001, "negative"),
            (good[0][0], "negative"),
        ]
        path = csv_file(good[:10] + bad + good[10:])
        out, err = run("scorer_train", "--unit", "district", "--csv", path)
        self.assertIn("新模型已启用", out)
        self.assertIn("accuracy=", out)
        for number, reason in (
            (12, "内容为空"),
            (13, "没有文字"),
            (14, "标注“maybe”无法识别"),
            (15, "超过 20000"),
            (16, "重复"),
        ):
            self.assertIn(f"跳过第 {number} 行：", err)
            self.assertIn(reason, err)
        model = ScorerModel.objects.get(organization=self.unit, in_use=True)
        self.assertEqual(model.label_counts, {"negative": 36, "positive": 36})
        self.assertEqual(model.evaluation["n"], 15)
        self.assertIsNotNone(model.created_at)
        scorer = scorer_for_unit(self.unit.pk)
        self.assertEqual(scorer.name, f"model:{model.pk}")
        self.assertEqual(scorer.score("实验小学乱收费，投诉没有回音").label, "negative")
        self.assertEqual(scorer.score("感谢中心医院的医生，辛苦了").label, "positive")
        self.assertEqual(scorer_for_unit(self.other_unit.pk).name, "lexicon")  # only this unit's
        self.assertTrue(AuditEntry.objects.filter(organization=self.unit, action="analysis.model_train").exists())

    def test_the_unit_is_found_by_id_and_an_unknown_unit_is_refused(self) -> None:
        path = csv_file(rows((NEGATIVE, "0"), (POSITIVE, "1")))  # 0/1 as public sets write them
        run("scorer_train", "--unit", str(self.other_unit.pk), "--csv", path)
        model = ScorerModel.objects.get(organization=self.other_unit)
        self.assertEqual(sorted(model.classes), ["negative", "positive"])
        with self.assertRaisesMessage(CommandError, "没有代码或编号为“nowhere”的单位"):
            run("scorer_train", "--unit", "nowhere", "--csv", path)
        with self.assertRaisesMessage(CommandError, "无法读取文件"):
            run("scorer_train", "--unit", "district", "--csv", "/nonexistent.csv")

    def test_a_failed_training_keeps_the_model_in_use(self) -> None:
        run(
            "scorer_train",
            "--unit",
            "district",
            "--csv",
            csv_file(rows((NEGATIVE, "negative"), (POSITIVE, "positive"))),
        )
        before = ScorerModel.objects.get(in_use=True)
        cases = {
            "只有一类标注": csv_file(rows((NEGATIVE, "negative"))),
            "标注太少：共 4 条": csv_file(
                [("示范区一中乱收费", "negative")] * 1 + rows((POSITIVE[:1], "positive"))[:3]
            ),
            "“正面”的标注太少": csv_file(rows((NEGATIVE, "negative")) + rows((POSITIVE[:1], "positive"))[:3]),
            "列名 text,label": csv_file(rows((NEGATIVE, "negative")), header=("content", "sentiment")),
        }
        for message, path in cases.items():
            with self.assertRaisesMessage(CommandError, message):
                run("scorer_train", "--unit", "district", "--csv", path)
        self.assertEqual(list(ScorerModel.objects.values_list("pk", "in_use")), [(before.pk, True)])

    def test_eval_prints_accuracy_and_per_class_figures_for_the_default_scorer_and_the_model(self) -> None:
        path = csv_file([*rows((NEGATIVE, "negative"), (POSITIVE, "positive")), ("", "negative")])
        out, err = run("scorer_eval", "--unit", "district", "--csv", path)
        self.assertIn("默认评分器，评估 72 条，跳过 1 行", out)
        self.assertIn("跳过第 74 行：内容为空", err)
        lines = out.splitlines()
        self.assertTrue(lines[1].startswith("accuracy="))
        self.assertEqual(lines[2].split(), ["class", "precision", "recall", "f1", "support"])
        classes = [line.split()[0] for line in lines[3:]]
        self.assertEqual([c for c in classes if c != "neutral"], ["negative", "positive"])  # 中性 only if predicted
        run("scorer_train", "--unit", "district", "--csv", path)
        out, _err = run("scorer_eval", "--unit", "district", "--csv", path)
        self.assertIn("本单位模型（model:", out)


class RollbackTests(AnalysisTestCase):
    def train(self) -> ScorerModel:
        return scorer_train(
            organization_id=self.unit.pk,
            actor=self.ann,
            texts=[text for text, _label in rows((NEGATIVE, "negative"), (POSITIVE, "positive"))],
            labels=[label for _text, label in rows((NEGATIVE, "negative"), (POSITIVE, "positive"))],
            source="test",
        )

    def test_roll_back_returns_to_the_previous_model_then_to_the_default(self) -> None:
        first, second = self.train(), self.train()
        self.assertEqual(ScorerModel.objects.get(in_use=True), second)
        self.assertEqual(scorer_rollback(organization_id=self.unit.pk, actor=self.alice), first)
        self.assertEqual(scorer_for_unit(self.unit.pk).name, f"model:{first.pk}")
        self.assertIsNone(scorer_rollback(organization_id=self.unit.pk, actor=self.alice))
        self.assertEqual(scorer_for_unit(self.unit.pk).name, "lexicon")
        with self.assertRaisesMessage(DomainError, "没有可以回退的模型"):
            scorer_rollback(organization_id=self.unit.pk, actor=self.alice)
        self.assertEqual(AuditEntry.objects.filter(action="analysis.model_rollback").count(), 2)

    def test_a_new_model_scores_the_next_posts(self) -> None:
        self.scheme()
        model = self.train()
        self.ingest("示范区一中食堂饭菜里有虫子，孩子吃了肚子疼，学校不管")
        self.assertEqual(PostAnalysis.objects.get().scorer, f"model:{model.pk}")

    def test_only_analysts_leaders_and_the_units_administrator_may_train_or_roll_back(self) -> None:
        for person in (self.bob, self.hank, self.nina, self.charlie):
            with self.assertRaises(DomainError):
                scorer_train(organization_id=self.unit.pk, actor=person, texts=[], labels=[])
        self.train()
        with self.assertRaises(DomainError):
            scorer_rollback(organization_id=self.unit.pk, actor=self.carl)  # the other unit's administrator
        scorer_rollback(organization_id=self.unit.pk, actor=self.uma)


class ShippedDatasetTests(AnalysisTestCase):
    """The figures the README of analysis/data states (the goals of the issue)."""

    def test_the_default_scorer_and_a_trained_model_reach_their_goals(self) -> None:
        data = csv_read(DATASET.read_bytes())
        self.assertEqual(data.skipped, [])
        self.assertGreaterEqual(len(data.texts), 300)
        out, _err = run("scorer_eval", "--unit", "district", "--csv", str(DATASET))
        negative = next(line for line in out.splitlines() if line.startswith("negative")).split()
        self.assertGreaterEqual(float(negative[3]), 0.60)
        out, _err = run("scorer_train", "--unit", "district", "--csv", str(DATASET))
        self.assertGreaterEqual(ScorerModel.objects.get(in_use=True).evaluation["accuracy"], 0.90)
