"""The drill's closing report, for a person: what ran, what was injected, and the four counts that must be zero."""

from __future__ import annotations

from trading.drill.run import DrillResult

SHOWN = 5  # findings listed per check; the rest are counted


def report(result: DrillResult) -> str:
    spec = result.spec
    lines = [
        f"Fault drill, seed {spec.seed}: {result.elapsed:,.1f} s, {len(result.cities)} cities "
        f"({', '.join(result.cities)}), {result.markets:,} markets listed",
        f"  cycles {result.cycles:,} ({result.cycles_failed:,} failed), reconciliations {result.reconciliations:,}, "
        f"fault phases {result.phases:,}, days settled {result.days:,}",
        f"  orders sent {result.orders:,} (at the exchange {result.orders_at_exchange:,}), fills {result.fills:,}",
        f"  faults injected {result.faults_injected:,}: "
        + (", ".join(f"{kind} {n:,}" for kind, n in sorted(result.faults.items())) or "none"),
        "  kill switch halts lifted: "
        + (", ".join(f"{trigger} {n:,}" for trigger, n in sorted(result.halts.items())) or "none"),
        f"  feed: {_feed(result.feed)}",
        f"  closing reconciliation complete: {'yes' if result.closing_complete else 'NO'}",
    ]
    if result.faults_injected < spec.faults_min:
        lines.append(f"  too few faults: {result.faults_injected:,} < --faults-min {spec.faults_min:,}")
    if result.findings is not None:
        findings = result.findings
        lines.append("Must be zero:")
        lists = [findings.duplicate_orders, findings.lost_fills, findings.double_counted_fills,
                 findings.limit_breaches, findings.reconciliation_differences]  # fmt: skip
        for (name, count), found in zip(findings.counts.items(), lists, strict=True):
            lines.append(f"  {name:<28}{count:>6,}")
            lines += [f"      {line}" for line in found[:SHOWN]]
            if len(found) > SHOWN:
                lines.append(f"      … and {len(found) - SHOWN:,} more")
    lines.append("PASSED" if result.passed else "FAILED")
    return "\n".join(lines)


def _feed(totals: dict[str, int]) -> str:
    return ", ".join(f"{name.replace('_', ' ')} {n:,}" for name, n in totals.items()) or "no report"
