"""信息导入: upload a CSV or Excel file, see the preview (columns, per-row errors with their line,
counts), confirm, and the valid rows are the unit's posts from its 文件导入 source. Nothing goes in
before the confirm; the confirm trusts only a token this person's session holds."""

import io
import shutil
import tempfile
from pathlib import Path
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.urls import reverse
from openpyxl import Workbook

from monitoring.imports import MAX_BYTES
from monitoring.models import Mention, Source
from monitoring.views.posts import PENDING_KEY
from opinion_ops.testing import BaseTestCase, sign_in

CSV = (
    "标题,内容,链接,平台,发布者,发布时间,编号,备注\n"
    "食堂问题,某校食堂饭菜有问题，网友热议,https://weibo.com/1/abc,新浪微博,@网友甲,2026-11-27 10:30,W001,甲\n"
    "回应,学校已回应：正在核查,https://mp.weixin.qq.com/s/xyz,公众号,@学校,2026/11/27 11:05,W002,乙\n"
)


class ImportPageTests(BaseTestCase):
    def setUp(self) -> None:
        super().setUp()
        media = tempfile.mkdtemp(prefix="oo-import-")
        self.addCleanup(shutil.rmtree, media, ignore_errors=True)
        settings_override = override_settings(MEDIA_ROOT=media)
        settings_override.enable()
        self.addCleanup(settings_override.disable)
        self.pending = Path(media) / "posts-import"
        self.url = reverse("monitoring:posts_import")
        sign_in(self.client, "bob")

    def upload(self, content: bytes | str, name: str = "posts.csv") -> Any:
        data = content.encode() if isinstance(content, str) else content
        return self.client.post(self.url, {"action": "preview", "file": SimpleUploadedFile(name, data)})

    def confirm(self, token: str) -> Any:
        return self.client.post(self.url, {"action": "confirm", "token": token})

    def test_it_previews_then_imports_the_valid_rows_into_the_import_source(self) -> None:
        preview = self.upload(CSV)
        self.assertEqual(preview.status_code, 200)
        self.assertContains(preview, "内容 → 内容")
        self.assertContains(preview, "备注")  # an ignored column, named
        self.assertEqual(preview.context["preview"]["preview"].valid_rows, 2)
        self.assertFalse(Mention.objects.exists())  # nothing before the confirm
        token = preview.context["token"]
        self.assertEqual(len(list(self.pending.iterdir())), 1)
        done = self.confirm(token)
        self.assertEqual(done.status_code, 200)
        self.assertEqual(done.context["done"]["created"], 2)
        posts = Mention.objects.filter(organization=self.unit).order_by("external_id")
        self.assertEqual([p.external_id for p in posts], ["W001", "W002"])
        self.assertEqual({p.source.kind for p in posts if p.source}, {Source.Kind.IMPORT})
        self.assertTrue(all(p.source_id for p in posts))
        self.assertEqual(posts[0].platform, "weibo")
        self.assertEqual(posts[0].captured_by, self.bob)
        self.assertEqual(list(self.pending.iterdir()), [])  # the kept file is gone once imported

    def test_the_same_file_again_counts_duplicates(self) -> None:
        self.confirm(self.upload(CSV).context["token"])
        again = self.confirm(self.upload(CSV).context["token"])
        self.assertEqual((again.context["done"]["created"], again.context["done"]["duplicates"]), (0, 2))
        self.assertContains(again, 'data-testid="duplicates">2<')
        self.assertEqual(Mention.objects.count(), 2)

    def test_each_bad_row_is_shown_with_its_line_and_left_out(self) -> None:
        content = CSV + ",,https://weibo.com/3,微博,,,W003,\n" + "坏链接,内容在,javascript:alert(1),微博,,,W004,\n"
        preview = self.upload(content)
        self.assertEqual(preview.status_code, 200)
        self.assertContains(preview, "第 4 行，内容：")
        self.assertContains(preview, "第 5 行，链接：")
        self.assertContains(preview, 'data-testid="invalid">2 ')
        done = self.confirm(preview.context["token"])
        self.assertEqual((done.context["done"]["created"], done.context["done"]["rejected"]), (2, 2))
        self.assertContains(done, "第 4 行")
        self.assertEqual(Mention.objects.count(), 2)

    def test_a_gbk_csv_from_excel_on_chinese_windows_is_read(self) -> None:
        preview = self.upload(CSV.encode("gbk"))
        self.assertEqual(preview.status_code, 200)
        self.assertIn("GBK", preview.context["preview"]["preview"].read_as)
        self.confirm(preview.context["token"])
        self.assertEqual(Mention.objects.get(external_id="W001").text, "某校食堂饭菜有问题，网友热议")

    def test_an_excel_workbook_is_imported(self) -> None:
        book = Workbook()
        sheet = book.active
        sheet.append(["内容", "平台", "发布时间"])
        sheet.append(["一中食堂中毒", "抖音", "2026-11-27 09:00"])
        buffer = io.BytesIO()
        book.save(buffer)
        preview = self.upload(buffer.getvalue(), "posts.xlsx")
        self.confirm(preview.context["token"])
        self.assertEqual(Mention.objects.get().platform, "douyin")

    def test_a_file_too_big_is_refused_and_not_kept(self) -> None:
        response = self.upload(b"a" * (MAX_BYTES + 1))
        self.assertEqual(response.status_code, 400)
        self.assertContains(response, "文件过大", status_code=400)
        self.assertFalse(self.pending.exists() and any(self.pending.iterdir()))

    def test_files_that_cannot_be_read_get_a_message_and_nothing_is_kept(self) -> None:
        cases = {
            "empty": (b"", "文件是空的。"),
            "picture": (b"\x89PNG\r\n\x1a\n" + b"\x00" * 100, "无法识别的文件格式"),
            "header only": ("内容,平台\n".encode(), "只有表头"),
            "no text column": ("标题,平台\n甲,微博\n".encode(), "缺少必填的列"),
        }
        for case, (content, message) in cases.items():
            with self.subTest(case):
                response = self.upload(content)
                self.assertEqual(response.status_code, 400)
                self.assertIn(message, response.content.decode())
                self.assertNotIn("token", response.context or {})
                self.assertNotContains(response, 'name="token"', status_code=400)
        self.assertEqual(self.client.session.get(PENDING_KEY, {}), {})
        self.assertFalse(Mention.objects.exists())

    def test_a_made_up_or_used_token_is_refused(self) -> None:
        token = self.upload(CSV).context["token"]
        for forged in ["", "x" * 32, token + "x", "../../etc/passwd"]:
            with self.subTest(forged=forged):
                response = self.confirm(forged)
                self.assertEqual(response.status_code, 400)
                self.assertContains(response, "已失效", status_code=400)
        self.assertEqual(self.client.post(self.url, {"action": "confirm"}).status_code, 400)  # no token at all
        self.assertFalse(Mention.objects.exists())
        self.assertEqual(self.confirm(token).status_code, 200)
        self.assertEqual(self.confirm(token).status_code, 400)  # used up
        self.assertEqual(Mention.objects.count(), 2)

    def test_another_persons_token_is_refused(self) -> None:
        token = self.upload(CSV).context["token"]
        sign_in(self.client, "ann")
        self.assertEqual(self.confirm(token).status_code, 400)
        self.assertFalse(Mention.objects.exists())

    def test_a_file_changed_on_disk_after_the_preview_is_refused(self) -> None:
        token = self.upload(CSV).context["token"]
        [stored] = self.pending.iterdir()
        stored.write_bytes(CSV.replace("W001", "W999").encode())
        self.assertEqual(self.confirm(token).status_code, 400)
        self.assertFalse(Mention.objects.exists())

    def test_cancel_drops_the_kept_file(self) -> None:
        token = self.upload(CSV).context["token"]
        response = self.client.post(self.url, {"action": "cancel", "token": token})
        self.assertEqual(response.status_code, 302)
        self.assertEqual(list(self.pending.iterdir()), [])
        self.assertEqual(self.confirm(token).status_code, 400)

    def test_people_outside_the_working_groups_are_refused(self) -> None:
        sign_in(self.client, "nina")
        self.assertEqual(self.client.get(self.url).status_code, 403)
        self.assertEqual(self.upload(CSV).status_code, 403)
        self.assertFalse(self.pending.exists())
        self.client.logout()
        self.assertEqual(self.client.get(self.url).status_code, 302)

    def test_the_page_needs_the_csrf_token(self) -> None:
        from django.test import Client

        client = Client(enforce_csrf_checks=True)
        sign_in(client, "bob")
        self.assertContains(client.get(self.url), "csrfmiddlewaretoken")
        response = client.post(self.url, {"action": "preview", "file": SimpleUploadedFile("p.csv", CSV.encode())})
        self.assertEqual(response.status_code, 403)
