import { PassThrough } from 'node:stream';
import { createProgress, formatDuration, renderProgress } from './progress';

const terminal = (isTTY: boolean) => {
  const stream = new PassThrough() as PassThrough & { isTTY?: boolean; columns?: number };
  stream.isTTY = isTTY;
  stream.columns = 100;
  let text = '';
  stream.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
  return { stream, text: () => text };
};

describe('progress bar', () => {
  it('shows the rate and the ETA from the average rate since the start', () => {
    const line = renderProgress({
      label: 'simulate',
      unit: 'events',
      done: 25_000,
      total: 100_000,
      elapsedMs: 2_000,
      columns: 100,
    });
    expect(line).toContain(' 25% 25,000/100,000');
    expect(line).toContain('12.5k events/s');
    expect(line).toContain('ETA 0:06');
    expect(line.length).toBeLessThan(100);
  });

  it('shows a count and a rate when the total is unknown', () => {
    expect(
      renderProgress({
        label: 'import',
        unit: 'lines',
        done: 300,
        total: undefined,
        elapsedMs: 1_000,
        columns: 80,
      }),
    ).toBe('import 300 lines  300 lines/s');
  });

  it('formats durations as m:ss and h:mm:ss', () => {
    expect(formatDuration(0)).toBe('0:00');
    expect(formatDuration(61)).toBe('1:01');
    expect(formatDuration(3_725)).toBe('1:02:05');
  });

  it('redraws in place on a terminal, at most once per interval, and clears the line when done', () => {
    let clock = 0;
    const { stream, text } = terminal(true);
    const progress = createProgress({
      stream,
      label: 'verify',
      total: 10,
      now: () => clock,
      intervalMs: 100,
    });
    progress.advance(1); // drawn: the first frame
    progress.advance(1); // throttled: too soon after the first
    clock = 150;
    progress.advance(4);
    progress.finish();
    const frames = text().split('\r\x1b[K');
    expect(frames).toEqual(['', expect.stringContaining(' 1/10 '), expect.stringContaining(' 6/10 '), '']);
    expect(frames[2]).toContain('ETA 0:00');
  });

  it('writes nothing at all when stderr is not a terminal', () => {
    const { stream, text } = terminal(false);
    const progress = createProgress({ stream, label: 'verify', total: 10 });
    progress.advance(10);
    progress.finish();
    expect(text()).toBe('');
  });
});
