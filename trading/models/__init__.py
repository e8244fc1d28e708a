"""The trading app's tables: the ledger, the operator's controls, and the journal of what was done."""

from trading.models.controls import RiskLimitChange, RiskLimits, TradingState, TradingStateChange
from trading.models.journal import DecisionLogEntry, Difference, Reconciliation, TradingCycle
from trading.models.orders import MODE_CHOICES, Account, Fill, Order, Position, Settlement

__all__ = [
    "MODE_CHOICES",
    "Account",
    "DecisionLogEntry",
    "Difference",
    "Fill",
    "Order",
    "Position",
    "Reconciliation",
    "RiskLimitChange",
    "RiskLimits",
    "Settlement",
    "TradingCycle",
    "TradingState",
    "TradingStateChange",
]
