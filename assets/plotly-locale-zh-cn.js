// Plotly's zh-CN locale, served from this origin (the CSP allows no other): figures whose config
// says locale "zh-CN" (components/charts.py graph_config) print dates and modebar texts in Chinese.
// Date ticks read 6月7日 / 2026年6月, never "Jun 7" / "Jun 2026".
(function () {
  var zhCN = {
    moduleType: 'locale',
    name: 'zh-CN',
    dictionary: {
      'Autoscale': '自动缩放', 'Box Select': '矩形框选', 'Lasso Select': '套索选择',
      'Double-click to zoom back out': '双击恢复缩放', 'Download plot as a png': '下载为 PNG 图片',
      'Download plot': '下载图表', 'Pan': '平移', 'Reset axes': '重置坐标轴', 'Reset view': '重置视图',
      'Zoom': '缩放', 'Zoom in': '放大', 'Zoom out': '缩小', 'Produced with Plotly.js': '由 Plotly.js 生成',
      'Show closest data on hover': '悬停时显示最近的数据', 'Compare data on hover': '悬停时比较数据',
      'Toggle Spike Lines': '切换辅助线', 'Snapshot succeeded': '快照已生成',
      'Taking snapshot - this may take a few seconds': '正在生成快照，请稍候',
      'Sorry, there was a problem downloading your snapshot!': '抱歉，快照下载失败！',
      'max:': '最大值：', 'min:': '最小值：', 'median:': '中位数：', 'mean:': '平均数：',
      'mean ± σ:': '平均数 ± 标准差：', 'q1:': '下四分位数：', 'q3:': '上四分位数：',
      'lower fence:': '下限：', 'upper fence:': '上限：', 'trace': '数据系列'
    },
    format: {
      days: ['星期日', '星期一', '星期二', '星期三', '星期四', '星期五', '星期六'],
      shortDays: ['周日', '周一', '周二', '周三', '周四', '周五', '周六'],
      months: ['一月', '二月', '三月', '四月', '五月', '六月', '七月', '八月', '九月', '十月',
               '十一月', '十二月'],
      shortMonths: ['1月', '2月', '3月', '4月', '5月', '6月', '7月', '8月', '9月', '10月', '11月',
                    '12月'],
      periods: ['上午', '下午'],
      dateTime: '%Y年%-m月%-d日 %H:%M:%S',
      date: '%Y-%m-%d',
      time: '%H:%M:%S',
      decimal: '.',
      thousands: ',',
      grouping: [3],
      year: '%Y年',
      month: '%Y年%-m月',
      dayMonth: '%-m月%-d日',
      dayMonthYear: '%Y年%-m月%-d日'
    }
  };
  // plotly.js registers window.PlotlyLocales when it loads; if it has loaded already, register now.
  if (window.Plotly && window.Plotly.register) {
    window.Plotly.register(zhCN);
  } else {
    window.PlotlyLocales = (window.PlotlyLocales || []).concat([zhCN]);
  }
})();
