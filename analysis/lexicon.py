"""The default scorer's words: risk categories these units watch, negative and positive sentiment,
negators, sarcasm markers. Written for this project (no downloaded list); weights are relative."""

from django.utils.translation import gettext_lazy as _

# category -> (label, weight, words)
RISK_CATEGORIES: dict[str, tuple[object, float, tuple[str, ...]]] = {
    "rights": (
        _("维权"),
        1.0,
        tuple(
            "维权 讨薪 欠薪 拖欠工资 拖欠 讨说法 要说法 讨个说法 给个说法 上访 信访 拉横幅 拉条幅 聚集 堵门 围堵 罢工 "
            "索赔 退费难 退款难 不退钱 不给退 集体维权 讨公道".split()
        ),
    ),
    "complaint": (
        _("投诉"),
        0.9,
        tuple(
            "投诉 举报 12345 市长热线 没人管 无人管 推诿 踢皮球 不作为 乱作为 乱收费 乱扣费 态度恶劣 刁难 吃拿卡要 "
            "门难进 脸难看 事难办 拖着不办 一拖再拖 石沉大海 不予理睬 置之不理 强制 强行 逼迫 被迫 没人修 不归他们管 "
            "谁来赔 谁负责 谁信 这合理吗 什么规矩 说一套做一套 不公平 变相收费 乱收 多收 敢怒不敢言 没有回音 没有下文 "
            "没消息 不解释 效率太低 极差 太差 一句话都不说 连句道歉 吃不饱 跑路 截留 泄露 隐私 利益输送 勾结 黄牛 "
            "猖獗 倒卖 逼人 没底线 不退 不给 拖了 干等".split()
        ),
    ),
    "poisoning": (
        _("中毒与食品安全"),
        1.0,
        tuple(
            "中毒 食物中毒 腹泻 拉肚子 呕吐 上吐下泻 发烧送医 送医 变质 过期 发霉 霉变 异物 虫子 老鼠 蟑螂 苍蝇 "
            "头发丝 馊 臭味 异味 污染 泄漏 超标 不合格 有毒 致癌 地沟油 三无 刺鼻 超载 漏水 裂缝 开裂 误诊".split()
        ),
    ),
    "violence": (
        _("打人与伤害"),
        1.0,
        tuple(
            "打人 殴打 暴打 体罚 霸凌 欺凌 推搡 扇耳光 扇巴掌 辱骂 谩骂 猥亵 性骚扰 伤人 持刀 砍人 受伤 骨折 坠楼 跳楼 "
            "身亡 死亡 去世 轻生 自杀 暴力执法 打伤 虐待 家暴 罚站 强拆 摔伤 划伤 摔倒 流鼻血 差点没".split()
        ),
    ),
    "fraud": (
        _("造假"),
        1.0,
        tuple(
            "造假 弄虚作假 数据造假 假冒 虚假 伪造 学术不端 抄袭 骗局 诈骗 骗钱 骗子 套路贷 忽悠 冒名顶替 "
            "注水 虚报 假药 假证 假文凭 以次充好 缺斤少两 偷工减料".split()
        ),
    ),
    "coverup": (
        _("隐瞒"),
        1.0,
        tuple(
            "隐瞒 瞒报 谎报 封口 删帖 捂盖子 不让说 压下来 私了 掩盖 包庇 推卸责任 甩锅 封锁消息 不敢说 威胁 恐吓 "
            "打压 报复 不公开 暗箱操作".split()
        ),
    ),
    "corruption": (
        _("腐败"),
        1.0,
        tuple("腐败 贪污 受贿 行贿 索贿 吃回扣 收红包 关系户 走后门 权钱交易 挪用 侵吞 中饱私囊 特权".split()),
    ),
    "escalation": (
        _("舆情升级"),
        0.6,
        tuple(
            "曝光 热搜 上热搜 媒体介入 记者 求扩散 扩散 求转发 帮忙转发 转发周知 央视 新闻联播 律师函 起诉 报警 "
            "立案 实名举报 万人 全网 刷屏 发酵 不转不是 大家评评理".split()
        ),
    ),
}

NEGATIVE_SENTIMENT: tuple[str, ...] = tuple(
    "愤怒 气愤 生气 恶心 垃圾 黑心 离谱 太离谱 无语 失望 寒心 心寒 可恶 无耻 丧良心 没良心 太过分 过分 坑人 坑爹 害人 "
    "忍无可忍 吐槽 差评 糟糕 恶劣 敷衍 傲慢 欺负 不负责任 不负责 害怕 担心 崩溃 绝望 凭什么 质疑 讨厌 难吃 脏乱差 "
    "烂 骂 痛心 心疼孩子 太坑 欺人太甚 草菅人命 官僚 冷漠 霸道 嚣张 耻辱 丢人 可笑 荒唐 混乱 一团糟 骗人 谎言 "
    "不靠谱 后悔 无奈 憋屈 委屈 惨 悲剧 倒霉 令人发指 不像话 太黑 宰客 天价 吓人 恐怖 可怕 严重 恶性 事故 "
    "塌方 火灾 爆炸 车祸 漏水 欠费 失联 走失 投毒 霸王条款 堪忧 令人担忧 卫生差 脏乱".split()
)
# Mockery: with one of these, the praise words of the post count as complaint.
SARCASM: tuple[str, ...] = tuple(
    "呵呵 好一个 真行啊 真是好样的 可真行 佩服佩服 真有你的 真是厉害 好棒棒 绝了真是 吃相难看 谢谢你们全家 "
    "让我们体验 真会说话 太贴心了呢 真是绝了 可真是".split()
)

POSITIVE_SENTIMENT: tuple[str, ...] = tuple(
    "感谢 谢谢 点赞 好评 暖心 辛苦了 负责任 及时 给力 满意 表扬 好样的 敬业 温暖 感动 耐心 热情 贴心 "
    "好用 方便 效率很高 效率真高 效率高 太好了 真好 很好 特别好 好医生 好老师 有意义 高兴 收获 祝贺 有良心 "
    "井井有条 太暖了 舒服 办实事 没话说 感激 "
    "值得信赖 锦旗 优秀 赞 暖暖的 放心 安心 点个赞 称赞 高效 迅速 圆满 顺利 可靠 用心 体贴 赞扬 喜欢 开心 "
    "美味 好吃 干净 整洁 棒 感恩 致敬 为你们骄傲 骄傲 靠谱 认真 周到 舒心 欣慰 好消息 喜报 荣获 获评 表彰".split()
)

# Before a word, in the same clause: the word is denied ("没有中毒", "并未隐瞒", "不满意").
# One-character negators count right before the word (or one character apart: "不太满意"), longer
# ones up to NEGATION_REACH characters before it ("没有出现腹泻").
NEGATORS: tuple[str, ...] = tuple(
    "没有 并非 不是 毫无 从未 并未 绝无 不存在 否认 并不 不会 不再 不算 未曾 没出现".split()
)
NEGATORS_SHORT: tuple[str, ...] = ("不", "没", "未")
NEGATION_REACH = 4  # characters looked back for a longer negator

# Official rebuttal: the risk words of such a post are reported, not alleged.
REBUTTAL: tuple[str, ...] = tuple(
    "辟谣 系谣言 不实信息 不实 谣言 已核实 经核查 澄清 情况说明 不属实 旧视频 系旧闻 与我校无关".split()
)

# Phrases that hold a risk word but say nothing risky: the longer phrase wins where they overlap.
HARMLESS: tuple[str, ...] = tuple(
    "垃圾分类 住院部 防范电信诈骗 谨防诈骗 防诈骗 反诈 消防演练 疏散演练 安全用电".split()
)

WEIGHT_SENTIMENT = 0.8
WEIGHT_SARCASM = 0.9
WEIGHT_UNIT_WORD = 1.0
WEIGHT_POSITIVE = 0.8
WEIGHT_DENIED_PRAISE = 1.0
