"""The 研判 pages: clusters, a cluster with its posts and heat, 待标注 with the label control (htmx),
the unit's model page with train, roll back and risk words; the incident panel. Everything of the
person's own unit only: another unit's cluster, post or model is a 404."""

from django.db import connection
from django.test.utils import CaptureQueriesContext

from analysis.models import AnalysisSettings, Cluster, PostAnalysis, PostLabel, ScorerModel
from analysis.tests.base import CANTEEN, FEES, AnalysisTestCase
from analysis.tests.test_clusters import COPIES
from analysis.tests.test_training import NEGATIVE, PLACES, POSITIVE
from monitoring.ingest import PostIn, posts_ingest
from monitoring.services import mention_attach
from opinion_ops.testing import PASSWORD, sign_in
from organizations.audit import AuditEntry


class PagesTestCase(AnalysisTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.scheme()
        self.ingest(CANTEEN, *COPIES[:3], FEES)
        self.cluster = PostAnalysis.objects.get(mention__text=CANTEEN).cluster
        self.post = self.cluster.head
        assert self.post is not None

    def as_user(self, user: object) -> None:
        self.client.logout()
        self.assertTrue(sign_in(self.client, user.username, PASSWORD))  # type: ignore[attr-defined]

    def label(self, post_id: int, label: str, htmx: bool = True) -> object:
        headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
        return self.client.post(f"/analysis/posts/{post_id}/label/", {"label": label}, **headers)


class ClusterPageTests(PagesTestCase):
    def test_the_cluster_list_and_page_show_the_head_the_copies_the_counts_and_the_words(self) -> None:
        self.as_user(self.ann)
        page = self.client.get("/analysis/?order=size")
        self.assertContains(page, f"/analysis/clusters/{self.cluster.pk}/")
        self.assertContains(page, CANTEEN[:20])
        self.assertContains(page, "5 条信息，2 个聚类")  # the scheme's active alert
        page = self.client.get(f"/analysis/clusters/{self.cluster.pk}/")
        self.assertContains(page, 'data-testid="cluster-count">4<', html=False)
        self.assertEqual(page.content.decode().count('data-testid="analysis-post"'), 4)
        self.assertContains(page, "隐瞒（4）")
        self.assertContains(page, 'id="cluster-heat-data"')
        self.assertContains(page, "vendor/echarts/echarts.min.js")

    def test_the_cluster_page_costs_the_same_queries_whatever_its_size(self) -> None:
        self.as_user(self.ann)
        url = f"/analysis/clusters/{self.cluster.pk}/"
        with CaptureQueriesContext(connection) as few:
            self.client.get(url)
        self.ingest(*[f"{COPIES[1]} 第{i}次转发" for i in range(10)])
        self.assertEqual(Cluster.objects.get(pk=self.cluster.pk).post_count, 14)
        with CaptureQueriesContext(connection) as many:
            self.client.get(url)
        self.assertEqual(len(many), len(few))

    def test_another_units_people_get_404_and_people_without_a_role_403(self) -> None:
        self.as_user(self.charlie)
        self.assertEqual(self.client.get(f"/analysis/clusters/{self.cluster.pk}/").status_code, 404)
        self.assertEqual(self.label(self.post.pk, "negative").status_code, 404)
        self.assertNotContains(self.client.get("/analysis/"), CANTEEN[:20])
        self.assertFalse(PostLabel.objects.exists())
        self.as_user(self.nina)
        self.assertEqual(self.client.get("/analysis/").status_code, 403)
        self.client.logout()
        self.assertEqual(self.client.get("/analysis/").status_code, 302)  # to sign in


class LabelTests(PagesTestCase):
    def test_an_analyst_labels_a_post_in_place_and_changes_it(self) -> None:
        self.as_user(self.ann)
        page = self.client.get("/analysis/labels/")
        self.assertContains(page, f'id="label-{self.post.pk}"')
        answer = self.label(self.post.pk, "negative")
        self.assertEqual(answer.status_code, 200)
        self.assertTemplateUsed(answer, "analysis/partials/label_control.html")
        self.assertContains(answer, 'value="negative" class="small primary" aria-pressed="true"')
        self.assertEqual(PostLabel.objects.get(mention=self.post).label, "negative")
        self.label(self.post.pk, "neutral")
        self.assertEqual(PostLabel.objects.get(mention=self.post).labelled_by, self.ann)
        self.assertEqual(AuditEntry.objects.filter(action="analysis.label").count(), 2)
        self.assertNotContains(self.client.get("/analysis/labels/"), f'id="label-{self.post.pk}"')  # labelled
        self.label(self.post.pk, "")
        self.assertFalse(PostLabel.objects.exists())

    def test_a_bad_label_is_refused_next_to_the_post_and_without_htmx_the_page_comes_back(self) -> None:
        self.as_user(self.bob)
        answer = self.label(self.post.pk, "angry")
        self.assertEqual(answer.status_code, 400)
        self.assertContains(answer, "请选择负面、中性或正面。", status_code=400)
        answer = self.label(self.post.pk, "positive", htmx=False)
        self.assertRedirects(answer, "/analysis/labels/", fetch_redirect_response=False)
        self.assertEqual(PostLabel.objects.get().label, "positive")

    def test_a_handler_reads_but_may_not_label(self) -> None:
        self.as_user(self.hank)
        page = self.client.get(f"/analysis/clusters/{self.cluster.pk}/")
        self.assertEqual(page.status_code, 200)
        self.assertNotContains(page, 'data-testid="label-control"')
        self.assertEqual(self.label(self.post.pk, "negative").status_code, 403)
        self.assertFalse(PostLabel.objects.exists())


class ModelPageTests(PagesTestCase):
    def labelled(self) -> None:
        texts = [(t.format(p), "negative") for t in NEGATIVE for p in PLACES]
        texts += [(t.format(p), "positive") for t in POSITIVE for p in PLACES]
        result = posts_ingest(source_id=self.source.pk, posts=[PostIn(text=t, platform="weibo") for t, _l in texts])
        for pk, (_text, label) in zip(result.created, texts, strict=True):
            PostLabel.objects.create(
                mention_id=pk,
                organization=self.unit,
                label=label,
                labelled_by=self.ann,
                labelled_at=self.post.captured_at,
            )

    def test_the_train_button_refuses_too_few_labels_and_keeps_the_default(self) -> None:
        self.as_user(self.ann)
        self.label(self.post.pk, "negative")
        answer = self.client.post("/analysis/model/train/")
        self.assertContains(answer, "只有一类标注", status_code=400)
        self.assertFalse(ScorerModel.objects.exists())
        self.assertContains(self.client.get("/analysis/model/"), "默认评分器")

    def test_the_train_button_trains_from_labels_and_the_page_shows_the_model_and_rolls_it_back(self) -> None:
        self.labelled()
        self.as_user(self.ann)
        answer = self.client.post("/analysis/model/train/", follow=True)
        self.assertContains(answer, "新模型已启用")
        model = ScorerModel.objects.get(in_use=True)
        self.assertEqual(model.created_by, self.ann)
        self.assertEqual(model.label_counts, {"negative": 36, "positive": 36})
        page = self.client.get("/analysis/model/")
        self.assertContains(page, 'data-testid="model-accuracy"')
        self.assertContains(page, "回退到默认评分器")
        self.assertContains(self.client.get(f"/analysis/model/{model.pk}/"), "留出 15 条")
        self.as_user(self.charlie)
        self.assertEqual(self.client.get(f"/analysis/model/{model.pk}/").status_code, 404)
        self.assertNotContains(self.client.get("/analysis/model/"), 'data-testid="model-accuracy"')
        self.as_user(self.alice)
        answer = self.client.post("/analysis/model/rollback/", follow=True)
        self.assertContains(answer, "已回退到上一个模型")
        self.assertFalse(ScorerModel.objects.filter(in_use=True).exists())
        answer = self.client.post("/analysis/model/rollback/", follow=True)
        self.assertContains(answer, "没有可以回退的模型")

    def test_training_from_an_uploaded_file_lists_the_skipped_rows(self) -> None:
        self.as_user(self.ann)
        content = "text,label\n" + "\n".join(f"{t.format(p)},negative" for t in NEGATIVE for p in PLACES)
        content += "\n,positive\n" + "\n".join(f"{t.format(p)},positive" for t in POSITIVE for p in PLACES)
        from django.core.files.uploadedfile import SimpleUploadedFile

        upload = SimpleUploadedFile("labels.csv", content.encode("utf-8"), content_type="text/csv")
        answer = self.client.post("/analysis/model/train/", {"csv": upload}, follow=True)
        self.assertContains(answer, "（跳过 1 行）")
        self.assertEqual(ScorerModel.objects.get(in_use=True).source, "文件 labels.csv（72 条）")

    def test_a_monitor_may_not_train_and_risk_words_are_saved_by_an_analyst(self) -> None:
        self.as_user(self.bob)
        self.assertEqual(self.client.post("/analysis/model/train/").status_code, 403)
        self.assertEqual(self.client.post("/analysis/model/risk-words/", {"risk_words": "跑道"}).status_code, 403)
        self.as_user(self.ann)
        answer = self.client.post("/analysis/model/risk-words/", {"risk_words": "塑胶跑道，校服\n教辅"})
        self.assertRedirects(answer, "/analysis/model/", fetch_redirect_response=False)
        self.assertEqual(AnalysisSettings.objects.get(organization=self.unit).risk_words, "塑胶跑道\n校服\n教辅")
        answer = self.client.post("/analysis/model/risk-words/", {"risk_words": "长" * 60})
        self.assertContains(answer, "超过 50 个字", status_code=400)


class IncidentAndDashboardTests(PagesTestCase):
    def test_the_incident_page_counts_its_posts_and_clusters(self) -> None:
        incident = self.log_incident()
        for post in PostAnalysis.objects.filter(cluster=self.cluster).select_related("mention"):
            mention_attach(mention_id=post.mention_id, incident_id=incident.pk, actor=self.bob)
        self.as_user(self.ann)
        page = self.client.get(f"/incidents/{incident.pk}/")
        self.assertContains(page, "关联信息 4 条，归为 1 个聚类")
        self.assertContains(page, f"/analysis/clusters/{self.cluster.pk}/")
