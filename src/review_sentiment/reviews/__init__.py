"""Reviews as the project works with them, whatever pipeline reads them: the review table's
columns, reading a raw review file into that table, cleaning its texts, and the Ground Truth
input manifest made from it."""

# The review table's columns, in this order, for the pandas and the Spark engines alike.
REVIEW_COLUMNS = ["review_id", "text", "star_rating", "product_category"]
