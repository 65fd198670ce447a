"""AG Grid's own texts in Chinese (its `localeText`), for the keys the app's grids show: the
overlays, pagination, the column filter and the column menu. English is AG Grid's default."""

from __future__ import annotations

AG_GRID_ZH: dict[str, str] = {
    # overlays
    "loadingOoo": "加载中……", "noRowsToShow": "无数据", "loadingError": "加载出错",
    # pagination: "1 – 20 / 45" (rows), "页码 1 / 3" (pages); AG Grid puts one "of" in both
    "page": "页码", "of": "/", "to": "–", "more": "更多", "next": "下一页", "last": "末页",
    "first": "首页", "previous": "上一页", "pageLastRowUnknown": "?",
    "pageSizeSelectorLabel": "每页行数：", "ariaPageSizeSelectorLabel": "每页行数",
    "ariaPaginationPanel": "分页", "ariaPaginationPageSize": "每页行数",
    "ariaPaginationFirst": "首页", "ariaPaginationPrevious": "上一页", "ariaPaginationNext": "下一页",
    "ariaPaginationLast": "末页", "ariaPaginationRow": "行", "ariaPaginationPage": "页",
    "ariaPaginationPageLabel": "页", "ariaPaginationOf": "共", "ariaPaginationTo": "至",
    # filters
    "filterOoo": "筛选……", "equals": "等于", "notEqual": "不等于", "blank": "为空",
    "notBlank": "不为空", "empty": "请选择", "lessThan": "小于", "greaterThan": "大于",
    "lessThanOrEqual": "小于等于", "greaterThanOrEqual": "大于等于", "inRange": "介于",
    "inRangeStart": "从", "inRangeEnd": "到", "contains": "包含", "notContains": "不包含",
    "startsWith": "开头是", "endsWith": "结尾是", "dateFormatOoo": "年-月-日", "before": "早于",
    "after": "晚于", "andCondition": "且", "orCondition": "或", "applyFilter": "应用",
    "resetFilter": "重置", "clearFilter": "清除", "cancelFilter": "取消", "selectAll": "全选",
    "searchOoo": "搜索……", "blanks": "（空白）", "noMatches": "无匹配项",
    "filterConditions": "筛选条件", "filterSummaryInactive": "未筛选",
    "ariaFilterInput": "筛选输入", "ariaFilterValue": "筛选值", "ariaFilterFromValue": "起始值",
    "ariaFilterToValue": "截止值", "ariaFilteringOperator": "筛选方式", "ariaFilterList": "筛选列表",
    "ariaFilterColumn": "按此列筛选", "ariaFilterColumnsInput": "筛选列",
    "ariaColumnFiltered": "已筛选", "ariaFilterMenuOpen": "打开筛选菜单",
    # the column menu and headers
    "pinColumn": "固定列", "pinLeft": "固定在左侧", "pinRight": "固定在右侧", "noPin": "取消固定",
    "autosizeThisColumn": "自动调整此列宽度", "autosizeAllColumns": "自动调整所有列宽度",
    "resetColumns": "重置列", "columnFilter": "列筛选", "columnChooser": "选择列",
    "sortAscending": "升序", "sortDescending": "降序", "sortUnSort": "取消排序",
    "columns": "列", "filters": "筛选", "copy": "复制", "ctrlC": "Ctrl+C",
    "ariaSortableColumn": "按回车排序", "ariaMenuColumn": "按 Alt+向下键打开列菜单",
    "ariaColumnSelectAll": "全选列", "ariaRowSelect": "按空格选择此行",
    "ariaRowDeselect": "按空格取消选择此行", "ariaRowSelectAll": "按空格全选",
    "ariaChecked": "已选", "ariaUnchecked": "未选", "ariaIndeterminate": "部分选择",
    "ariaDragHandle": "拖动", "ariaRowToggleSelection": "按空格切换选择",
    "ariaSearch": "搜索", "ariaSearchFilterValues": "搜索筛选值",
    "true": "是", "false": "否",
}


def grid_locale(lang: str) -> dict:
    """Return the grid options that put AG Grid's own texts in `lang` (none for English)."""
    return {} if lang == "en" else {"localeText": AG_GRID_ZH}
