/**
 * The few shapes every generated dashboard is made of, so the three dashboards look and behave
 * alike: a `datasource` variable (no hard-coded datasource uid: import the JSON anywhere and pick
 * a Prometheus), time-series panels whose unit is stated once per panel, SLO lines, stats.
 */
import {
  GraphThresholdsStyleConfigBuilder,
  GraphThresholdsStyleMode,
  LegendDisplayMode,
  LegendPlacement,
  ReduceDataOptionsBuilder,
  VizLegendOptionsBuilder,
  type DataSourceRef,
} from '@grafana/grafana-foundation-sdk/common';
import {
  DatasourceVariableBuilder,
  QueryVariableBuilder,
  ThresholdsConfigBuilder,
  ThresholdsMode,
  VariableRefresh,
  VariableSort,
} from '@grafana/grafana-foundation-sdk/dashboard';
import { PanelBuilder as BarGaugePanelBuilder } from '@grafana/grafana-foundation-sdk/bargauge';
import { DataqueryBuilder } from '@grafana/grafana-foundation-sdk/prometheus';
import { PanelBuilder as StatPanelBuilder } from '@grafana/grafana-foundation-sdk/stat';
import { PanelBuilder as TimeseriesPanelBuilder } from '@grafana/grafana-foundation-sdk/timeseries';

/** Name of the datasource variable; every query of every panel goes through it. */
export const DATASOURCE_VARIABLE = 'datasource';

/** Panels reference the datasource only through the variable. */
export const DATASOURCE: DataSourceRef = { type: 'prometheus', uid: `\${${DATASOURCE_VARIABLE}}` };

/**
 * Grafana's own rate window: at least four scrape intervals, so rate() always has two samples
 * whatever the scrape interval of the Prometheus the dashboard is imported into.
 */
export const RATE_WINDOW = '$__rate_interval';

/** Grid width of a panel: three across a row. */
const THIRD_WIDTH = 8;
const PANEL_HEIGHT = 8;

/** Grafana unit ids (the panel's axis and tooltip formatting). */
export const Units = {
  seconds: 's',
  perSecond: 'ops',
  count: 'short',
  ratio: 'percentunit',
  bytes: 'bytes',
} as const;
export type Unit = (typeof Units)[keyof typeof Units];

/** One query of a panel: the PromQL and the legend it is drawn with. */
export interface PanelQuery {
  expr: string;
  legend: string;
}

export function datasourceVariable(): DatasourceVariableBuilder {
  return new DatasourceVariableBuilder(DATASOURCE_VARIABLE).label('Data source').type('prometheus');
}

/** A multi-value variable over one label's values of one metric, `.*` when all are picked. */
export function labelVariable(name: string, label: string, metric: string, title: string): QueryVariableBuilder {
  return new QueryVariableBuilder(name)
    .label(title)
    .datasource(DATASOURCE)
    .query(`label_values(${metric}, ${label})`)
    .definition(`label_values(${metric}, ${label})`)
    .refresh(VariableRefresh.OnTimeRangeChanged)
    .sort(VariableSort.AlphabeticalAsc)
    .multi(true)
    .includeAll(true)
    .allValue('.*');
}

function targets(queries: readonly PanelQuery[]): DataqueryBuilder[] {
  return queries.map((query, index) =>
    new DataqueryBuilder()
      .datasource(DATASOURCE)
      .refId(String.fromCharCode(65 + index))
      .expr(query.expr)
      .legendFormat(query.legend),
  );
}

export interface TimeseriesSpec {
  title: string;
  /** What the panel answers and how to read it (shown under the panel's info icon). */
  description: string;
  unit: Unit;
  queries: readonly PanelQuery[];
  /** Draws a dashed red line at this value (an SLO), in the panel's unit. */
  sloLine?: number;
  min?: number;
  width?: number;
}

export function timeseries(spec: TimeseriesSpec): TimeseriesPanelBuilder {
  let panel = new TimeseriesPanelBuilder()
    .title(spec.title)
    .description(spec.description)
    .datasource(DATASOURCE)
    .unit(spec.unit)
    .height(PANEL_HEIGHT)
    .span(spec.width ?? THIRD_WIDTH)
    .legend(new VizLegendOptionsBuilder().showLegend(true).displayMode(LegendDisplayMode.List).placement(LegendPlacement.Bottom))
    .fillOpacity(10)
    .lineWidth(1)
    .spanNulls(false);
  if (spec.min !== undefined) panel = panel.min(spec.min);
  for (const target of targets(spec.queries)) panel = panel.withTarget(target);
  if (spec.sloLine !== undefined) {
    panel = panel
      .thresholds(sloThresholds(spec.sloLine))
      .thresholdsStyle(new GraphThresholdsStyleConfigBuilder().mode(GraphThresholdsStyleMode.Dashed));
  }
  return panel;
}

export interface StatSpec {
  title: string;
  description: string;
  unit: Unit;
  query: PanelQuery;
  /** Green below, red from this value on. */
  redFrom?: number;
  width?: number;
}

export function stat(spec: StatSpec): StatPanelBuilder {
  return new StatPanelBuilder()
    .title(spec.title)
    .description(spec.description)
    .datasource(DATASOURCE)
    .unit(spec.unit)
    .height(PANEL_HEIGHT / 2)
    .span(spec.width ?? THIRD_WIDTH / 2)
    .thresholds(spec.redFrom === undefined ? neutralThresholds() : sloThresholds(spec.redFrom))
    .reduceOptions(lastValue())
    .withTarget(targets([spec.query])[0]!);
}

export interface BarGaugeSpec {
  title: string;
  description: string;
  unit: Unit;
  queries: readonly PanelQuery[];
  width?: number;
}

export function barGauge(spec: BarGaugeSpec): BarGaugePanelBuilder {
  let panel = new BarGaugePanelBuilder()
    .title(spec.title)
    .description(spec.description)
    .datasource(DATASOURCE)
    .unit(spec.unit)
    .height(PANEL_HEIGHT)
    .span(spec.width ?? THIRD_WIDTH)
    .min(0)
    .reduceOptions(lastValue())
    .thresholds(neutralThresholds());
  for (const target of targets(spec.queries)) panel = panel.withTarget(target);
  return panel;
}

/** Stats and bar gauges show each series' latest value (not a mean over the time range). */
function lastValue(): ReduceDataOptionsBuilder {
  return new ReduceDataOptionsBuilder().calcs(['lastNotNull']).values(false);
}

function sloThresholds(redFrom: number): ThresholdsConfigBuilder {
  return new ThresholdsConfigBuilder().mode(ThresholdsMode.Absolute).steps([
    { value: null, color: 'green' },
    { value: redFrom, color: 'red' },
  ]);
}

function neutralThresholds(): ThresholdsConfigBuilder {
  return new ThresholdsConfigBuilder().mode(ThresholdsMode.Absolute).steps([{ value: null, color: 'blue' }]);
}

/** `histogram_quantile(q, …)` of a classic histogram, summed over everything but `by` labels. */
export function quantile(q: number, histogram: string, selector = '', by: readonly string[] = []): string {
  return `histogram_quantile(${q}, sum by (${['le', ...by].join(', ')}) (rate(${histogram}_bucket${selector}[${RATE_WINDOW}])))`;
}
