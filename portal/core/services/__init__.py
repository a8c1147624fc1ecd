"""Operations shared by the portal pages and the worker tools."""
