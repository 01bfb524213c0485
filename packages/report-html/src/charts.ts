import * as echarts from 'echarts';

// Charts are drawn by Apache ECharts in Node, with its server-side SVG renderer (no DOM, no canvas), when the
// page is written: the page holds finished SVG, so it needs no script and no network to be viewed or
// printed, and the same figures always give the same bytes.

/** One series of a chart: a name and one value per category, as the decimal strings of the report. */
export interface ChartSeries {
  readonly name: string;
  /** Decimal strings (or counts), one per category; null where the report has no figure. */
  readonly values: ReadonlyArray<string | number | null>;
}

export interface ChartSpec {
  readonly kind: 'bar' | 'line' | 'horizontalBar';
  readonly categories: readonly string[];
  readonly series: readonly ChartSeries[];
  /** Shown on the value axis: a currency code, "partners", "share". */
  readonly unit: string;
}

export const CHART_WIDTH = 760;
export const CHART_HEIGHT = 300;

// A palette that stays distinct in greyscale print.
const PALETTE = ['#2f5d8a', '#d9822b', '#4f9d69', '#b8405e', '#7b6bb0', '#8c8c8c', '#c2a83e', '#3d9fb5'];

/**
 * ECharts names the CSS classes and ids of an SVG after a process-wide counter (`zr3-cls-1`), so the second
 * chart of a run differs from the same chart drawn first. They are renamed in order of appearance, with a
 * prefix of the caller's, so that a page's bytes depend on its figures only.
 */
const renameIds = (svg: string, prefix: string): string => {
  const names = new Map<string, string>();
  return svg.replace(/\bzr\d+-[A-Za-z]*-?\d+\b/g, (found) => {
    let name = names.get(found);
    if (name === undefined) {
      name = `${prefix}-${names.size}`;
      names.set(found, name);
    }
    return name;
  });
};

/** Draws a chart as an SVG document (a string), deterministic for the same spec and id prefix. */
export const renderChartSvg = (spec: ChartSpec, idPrefix: string): string => {
  const chart = echarts.init(null, null, {
    renderer: 'svg',
    ssr: true,
    width: CHART_WIDTH,
    height: CHART_HEIGHT + (spec.kind === 'horizontalBar' ? Math.max(0, spec.categories.length - 8) * 22 : 0),
  });
  try {
    const horizontal = spec.kind === 'horizontalBar';
    const categoryAxis = {
      type: 'category' as const,
      data: [...spec.categories],
      inverse: horizontal,
      axisLabel: { interval: 0, hideOverlap: true, fontSize: 11 },
    };
    const valueAxis = {
      type: 'value' as const,
      name: spec.unit,
      axisLabel: { fontSize: 11 },
      // Partners are counted: whole ticks only.
      ...(spec.unit === 'partners' ? { minInterval: 1 } : {}),
    };
    chart.setOption({
      animation: false,
      color: PALETTE,
      textStyle: { fontFamily: 'system-ui, -apple-system, "Segoe UI", Roboto, sans-serif' },
      legend: { top: 0, itemGap: 24, data: spec.series.map((s) => s.name) },
      // More than four series take two rows of legend: the plot starts below both.
      grid: {
        left: horizontal ? 140 : 70,
        right: 30,
        top: spec.series.length > 4 ? 64 : 40,
        bottom: 30,
        containLabel: false,
      },
      xAxis: horizontal ? valueAxis : categoryAxis,
      yAxis: horizontal ? categoryAxis : valueAxis,
      series: spec.series.map((s) => ({
        name: s.name,
        type: spec.kind === 'line' ? 'line' : 'bar',
        // ECharts reads the decimal strings itself to place the marks; the exact figures are in the tables.
        data: s.values.map((v) => (v === null ? '-' : v)),
        ...(spec.kind === 'line' ? { symbolSize: 6 } : { barMaxWidth: 36 }),
      })),
    });
    return renameIds(chart.renderToSVGString(), idPrefix);
  } finally {
    chart.dispose();
  }
};
