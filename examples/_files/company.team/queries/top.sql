SELECT name, total FROM sales ORDER BY total DESC LIMIT 3
