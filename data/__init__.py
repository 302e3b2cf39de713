"""Sample data and loaders (样例数据): real sources for the two pilot counties plus synthetic geometry."""
