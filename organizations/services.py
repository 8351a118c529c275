"""Setting up a unit: its standard working groups (the plan's 组织机构)."""

from organizations.models import Organization, ResponseGroup

DEFAULT_GROUPS = [
    (
        ResponseGroup.Kind.LEADERSHIP,
        "网络舆情应急处置工作领导小组",
        "统一领导和指挥网络舆情应急处置工作；决定预警级别和启动预案；审定回应口径和报告；及时向上级主管部门报告。",
    ),
    (ResponseGroup.Kind.OFFICE, "领导小组办公室", "负责日常工作、信息汇总、报告起草和领导小组交办事项。"),
    (
        ResponseGroup.Kind.MONITORING,
        "舆情监测组",
        "对重点网站、论坛、微博、微信、客户端等进行日常监测，及时发现和报告舆情。",
    ),
    (ResponseGroup.Kind.ANALYSIS, "舆情研判组", "分析舆情的性质、影响范围和发展趋势，提出预警级别和处置建议。"),
    (
        ResponseGroup.Kind.HANDLING,
        "舆情处置组",
        "根据领导小组部署采取处置措施：答复、澄清、请求平台删除违法信息、协调相关部门。",
    ),
    (ResponseGroup.Kind.PUBLICITY, "宣传组", "起草并经审定后发布权威信息，回应社会关切，做好媒体沟通。"),
    (ResponseGroup.Kind.LEGAL, "法律援助组", "提供法律咨询和援助，依法移交公安、纪检监察等部门。"),
    (ResponseGroup.Kind.SUPPORT, "综合保障组", "提供人员、资金、物资和技术等保障。"),
]


def response_groups_create_default(*, organization: Organization) -> list[ResponseGroup]:
    """Create the plan's standard working groups for a unit (skips groups it already has)."""
    groups = []
    for kind, name, duties in DEFAULT_GROUPS:
        group, _created = ResponseGroup.objects.get_or_create(
            organization=organization, name=name, defaults={"kind": kind, "duties": duties}
        )
        groups.append(group)
    return groups
