"""The fixed facts of the product catalog: the 21 departments and 134 aisles of the real data
(ids, names, which department an aisle belongs to, its share of all order lines), the names and
ids of the 20 most popular real products, and the vocabulary that names the other products.

Shares are percentages of order lines in the real data (approximate, from public analyses);
they set how often the generator explores each aisle. Department reorder ratios likewise.
"""

from __future__ import annotations

DEPARTMENTS: tuple[str, ...] = (
    "frozen", "other", "bakery", "produce", "alcohol", "international", "beverages", "pets",
    "dry goods pasta", "bulk", "personal care", "meat seafood", "pantry", "breakfast",
    "canned goods", "dairy eggs", "household", "babies", "snacks", "deli", "missing",
)
"""Department names; department_id is the 1-based position."""

DEPARTMENT_REORDER_RATIO: tuple[float, ...] = (
    0.54, 0.41, 0.63, 0.65, 0.57, 0.37, 0.65, 0.60, 0.46, 0.58, 0.32, 0.57, 0.35, 0.56,
    0.46, 0.67, 0.40, 0.58, 0.57, 0.61, 0.40,
)
"""Share of a department's order lines that are reorders in the real data, by department_id."""

AISLES: tuple[tuple[str, int, float], ...] = (
    ("prepared soups salads", 20, 0.45), ("specialty cheeses", 16, 0.60),
    ("energy granola bars", 19, 1.40), ("instant foods", 9, 0.45),
    ("marinades meat preparation", 13, 0.20), ("other", 2, 0.10),
    ("packaged meat", 12, 0.25), ("bakery desserts", 3, 0.20), ("pasta sauce", 9, 0.55),
    ("kitchen supplies", 17, 0.10), ("cold flu allergy", 11, 0.07), ("fresh pasta", 9, 0.15),
    ("prepared meals", 20, 0.30), ("tofu meat alternatives", 20, 0.35),
    ("packaged seafood", 12, 0.15), ("fresh herbs", 4, 1.20), ("baking ingredients", 13, 0.75),
    ("bulk dried fruits vegetables", 10, 0.05), ("oils vinegars", 13, 0.35),
    ("oral hygiene", 11, 0.12), ("packaged cheese", 16, 3.00), ("hair care", 11, 0.10),
    ("popcorn jerky", 19, 0.50), ("fresh fruits", 4, 11.30), ("soap", 11, 0.08),
    ("coffee", 7, 0.80), ("beers coolers", 5, 0.15), ("red wines", 5, 0.12),
    ("honeys syrups nectars", 13, 0.20), ("latino foods", 6, 0.30), ("refrigerated", 7, 1.80),
    ("packaged produce", 4, 0.60), ("kosher foods", 6, 0.10), ("frozen meat seafood", 1, 0.25),
    ("poultry counter", 12, 0.35), ("butter", 16, 0.55), ("ice cream ice", 1, 1.60),
    ("frozen meals", 1, 1.30), ("seafood counter", 12, 0.20), ("dog food care", 8, 0.15),
    ("cat food care", 8, 0.15), ("frozen vegan vegetarian", 1, 0.30), ("buns rolls", 3, 0.40),
    ("eye ear care", 11, 0.02), ("candy chocolate", 19, 0.70), ("mint gum", 19, 0.20),
    ("vitamins supplements", 11, 0.15), ("breakfast bars pastries", 14, 0.30),
    ("packaged poultry", 12, 0.20), ("fruit vegetable snacks", 19, 0.50),
    ("preserved dips spreads", 13, 0.40), ("frozen breakfast", 1, 0.45), ("cream", 16, 0.90),
    ("paper goods", 17, 0.45), ("shave needs", 11, 0.05), ("diapers wipes", 18, 0.25),
    ("granola", 14, 0.30), ("frozen breads doughs", 1, 0.15), ("canned meals beans", 15, 1.00),
    ("trash bags liners", 17, 0.15), ("cookies cakes", 19, 0.90), ("white wines", 5, 0.12),
    ("grains rice dried goods", 9, 0.60), ("energy sports drinks", 7, 0.35),
    ("protein meal replacements", 11, 0.12), ("asian foods", 6, 0.30),
    ("fresh dips tapenades", 20, 0.65), ("bulk grains rice dried goods", 10, 0.05),
    ("soup broth bouillon", 15, 0.85), ("digestion", 11, 0.05),
    ("refrigerated pudding desserts", 16, 0.15), ("condiments", 13, 0.45),
    ("facial care", 11, 0.05), ("dish detergents", 17, 0.35), ("laundry", 17, 0.25),
    ("indian foods", 6, 0.10), ("soft drinks", 7, 0.90), ("crackers", 19, 1.40),
    ("frozen pizza", 1, 0.45), ("deodorants", 11, 0.04), ("canned jarred vegetables", 15, 0.70),
    ("baby accessories", 18, 0.02), ("fresh vegetables", 4, 10.60), ("milk", 16, 2.70),
    ("food storage", 17, 0.20), ("eggs", 16, 1.40), ("more household", 17, 0.10),
    ("spreads", 13, 0.60), ("salad dressing toppings", 13, 0.40), ("cocoa drink mixes", 7, 0.15),
    ("soy lactosefree", 16, 2.00), ("baby food formula", 18, 1.00), ("breakfast bakery", 3, 0.50),
    ("tea", 7, 0.60), ("canned meat seafood", 15, 0.30), ("lunch meat", 20, 1.30),
    ("baking supplies decor", 13, 0.10), ("juice nectars", 7, 1.10),
    ("canned fruit applesauce", 15, 0.45), ("missing", 21, 0.20),
    ("air fresheners candles", 17, 0.10), ("baby bath body care", 18, 0.03),
    ("ice cream toppings", 13, 0.05), ("spices seasonings", 13, 0.65),
    ("doughs gelatins bake mixes", 13, 0.35), ("hot dogs bacon sausage", 12, 0.70),
    ("chips pretzels", 19, 2.20), ("other creams cheeses", 16, 0.90), ("skin care", 11, 0.05),
    ("pickled goods olives", 13, 0.40), ("plates bowls cups flatware", 17, 0.10),
    ("bread", 3, 1.80), ("frozen juice", 1, 0.05), ("cleaning products", 17, 0.50),
    ("water seltzer sparkling water", 7, 2.60), ("frozen produce", 1, 1.70),
    ("nuts seeds dried fruit", 19, 0.90), ("first aid", 11, 0.04), ("frozen dessert", 1, 0.15),
    ("yogurt", 16, 4.50), ("cereal", 14, 1.20), ("meat counter", 12, 0.35),
    ("packaged vegetables fruits", 4, 5.50), ("spirits", 5, 0.08),
    ("trail mix snack mix", 19, 0.20), ("feminine care", 11, 0.05),
    ("body lotions soap", 11, 0.07), ("tortillas flat bread", 3, 0.70),
    ("frozen appetizers sides", 1, 0.45), ("hot cereal pancake mixes", 14, 0.40),
    ("dry pasta", 9, 0.95), ("beauty", 11, 0.02), ("muscles joints pain relief", 11, 0.05),
    ("specialty wines champagnes", 5, 0.03),
)
"""(aisle name, department_id, share of order lines in percent); aisle_id is the 1-based position."""

PRODUCT_COUNT = 49_688

TOP_PRODUCTS: tuple[tuple[int, str, int, float], ...] = (
    (24852, "Banana", 24, 1.46), (13176, "Bag of Organic Bananas", 24, 1.17),
    (21137, "Organic Strawberries", 24, 0.82), (21903, "Organic Baby Spinach", 123, 0.75),
    (47209, "Organic Hass Avocado", 24, 0.66), (47766, "Organic Avocado", 24, 0.54),
    (47626, "Large Lemon", 24, 0.47), (16797, "Strawberries", 24, 0.44),
    (26209, "Limes", 24, 0.43), (27845, "Organic Whole Milk", 84, 0.42),
    (27966, "Organic Raspberries", 24, 0.42), (22935, "Organic Yellow Onion", 83, 0.35),
    (24964, "Organic Garlic", 83, 0.34), (45007, "Organic Zucchini", 83, 0.31),
    (39275, "Organic Blueberries", 24, 0.31), (49683, "Cucumber Kirby", 83, 0.30),
    (28204, "Organic Fuji Apple", 24, 0.27), (5876, "Organic Lemon", 24, 0.27),
    (8277, "Apple Honeycrisp Organic", 24, 0.26), (40706, "Organic Grape Tomatoes", 83, 0.26),
)
"""(product_id, product_name, aisle_id, share of order lines in percent) of the 20 most ordered
real products, most popular first."""

DEPARTMENT_NOUNS: tuple[tuple[str, ...], ...] = (
    ("Pizza", "Burritos", "Waffles", "Veggie Burgers", "Ice Cream", "Dumplings", "Fish Sticks",
     "Edamame", "Pot Pie", "Sorbet", "Enchiladas", "Gelato", "Peas", "Meatballs"),
    ("Gift Card", "Reusable Bag", "Party Favors", "Birthday Candles", "Batteries"),
    ("Sourdough Bread", "Bagels", "Croissants", "Muffins", "Tortillas", "Baguette", "Rolls",
     "Brioche", "Pita", "Scones", "Cinnamon Rolls", "English Muffins"),
    ("Apples", "Carrots", "Spinach", "Kale", "Tomatoes", "Peppers", "Potatoes", "Mushrooms",
     "Grapes", "Pears", "Celery", "Broccoli", "Cilantro", "Mango", "Blackberries", "Lettuce"),
    ("Pale Ale", "Cabernet Sauvignon", "Chardonnay", "Pinot Noir", "Lager", "Vodka", "IPA",
     "Sauvignon Blanc", "Hard Cider", "Tequila", "Prosecco"),
    ("Salsa Verde", "Tortilla Chips", "Curry Paste", "Soy Sauce", "Ramen", "Naan", "Refried Beans",
     "Coconut Milk", "Kimchi", "Matzo", "Chutney"),
    ("Sparkling Water", "Cold Brew Coffee", "Green Tea", "Orange Juice", "Kombucha", "Cola",
     "Lemonade", "Coconut Water", "Energy Drink", "Almond Milk", "Ground Coffee", "Iced Tea"),
    ("Dog Food", "Cat Food", "Dog Treats", "Cat Litter", "Chew Toys"),
    ("Spaghetti", "Penne", "Macaroni & Cheese", "Basmati Rice", "Quinoa", "Lentils",
     "Marinara Sauce", "Couscous", "Rigatoni", "Ravioli", "Egg Noodles"),
    ("Rolled Oats", "Dried Mango", "Brown Rice", "Pinto Beans", "Chia Seeds"),
    ("Toothpaste", "Shampoo", "Conditioner", "Body Wash", "Deodorant", "Lip Balm",
     "Multivitamin", "Sunscreen", "Hand Soap", "Face Wash", "Lotion", "Protein Powder"),
    ("Chicken Breast", "Ground Beef", "Bacon", "Salmon Fillet", "Turkey Sausage", "Pork Chops",
     "Shrimp", "Chicken Thighs", "Hot Dogs", "Steak"),
    ("Olive Oil", "Peanut Butter", "Honey", "Ketchup", "Mayonnaise", "Mustard", "Baking Soda",
     "Flour", "Maple Syrup", "Vinegar", "Hot Sauce", "Salad Dressing", "Sea Salt", "Jam"),
    ("Granola", "Cereal", "Oatmeal", "Pancake Mix", "Toaster Pastries", "Breakfast Bars"),
    ("Black Beans", "Chickpeas", "Chicken Noodle Soup", "Diced Tomatoes", "Tuna", "Applesauce",
     "Vegetable Broth", "Corn", "Tomato Paste", "Chili"),
    ("Whole Milk", "Greek Yogurt", "Cheddar Cheese", "Large Eggs", "Butter", "Half & Half",
     "Cream Cheese", "String Cheese", "Sour Cream", "Mozzarella", "Cottage Cheese", "Kefir",
     "Heavy Cream", "Parmesan"),
    ("Paper Towels", "Dish Soap", "Laundry Detergent", "Trash Bags", "Toilet Paper",
     "Sponges", "Aluminum Foil", "Napkins", "All-Purpose Cleaner", "Storage Bags"),
    ("Baby Wipes", "Diapers", "Baby Food Pouch", "Infant Formula", "Teething Wafers"),
    ("Potato Chips", "Crackers", "Pretzels", "Popcorn", "Trail Mix", "Cookies", "Granola Bars",
     "Dark Chocolate", "Almonds", "Fruit Snacks", "Rice Cakes", "Beef Jerky", "Gummy Bears"),
    ("Hummus", "Sliced Turkey", "Guacamole", "Tofu", "Chicken Salad", "Pesto", "Salami",
     "Ham", "Tabbouleh", "Soup"),
    ("Assorted Item", "Seasonal Item", "Specialty Item", "Variety Pack", "Sampler"),
)
"""Product nouns by department (position = department_id - 1)."""

BRANDS: tuple[str, ...] = (
    "Organic", "Simple Truth", "365", "Green Valley", "Sunny Farms", "Blue Ridge", "Harvest Moon",
    "Golden Fields", "Nature's Path", "Happy Hen", "Pacific Coast", "Mountain High", "Old Mill",
    "Lakeside", "Red Barn", "Silver Spoon", "Wild Oats", "True North", "Hillside", "Prairie Gold",
)
ACCENTED_BRANDS: tuple[str, ...] = (
    "Señor Rico", "Café Bella", "Crème de la Crème", "Maison Brûlée", "Über Fresh",
    "Häagen Hof", "Mañana", "Château Vert", "Açaí Bay", "Niçoise Kitchen",
)
QUALIFIERS: tuple[str, ...] = (
    "Original", "Classic", "Light", "Reduced Fat", "Unsweetened", "Low Sodium", "Gluten Free",
    "Whole Grain", "Family Size", "Mini", "Natural", "Fresh", "Value Pack", "Sensitive",
    "Extra Strength", "Unscented", "Sugar Free", "Vegan", "Non-GMO", "Premium", "Everyday",
)
FLAVORS: tuple[str, ...] = (
    "Vanilla", "Chocolate", "Strawberry", "Lemon", "Garlic", "Honey", "Cinnamon", "Blueberry",
    "Sea Salt", "Chipotle", "Coconut", "Mango", "Peach", "Basil", "Cheddar", "Maple", "Mint",
    "Raspberry", "Herb", "Barbecue", "Ginger", "Cherry", "Pumpkin Spice", "Smoked", "Roasted",
    "Spicy", "Sweet", "Creamy", "Crunchy", "Lightly Salted",
)
ACCENTED_FLAVORS: tuple[str, ...] = (
    "Jalapeño", "Crème Brûlée", "Piña Colada", "Rosé", "Gruyère", "Café au Lait", "Purée",
)
FOOD_DEPARTMENT_IDS = frozenset({1, 3, 4, 5, 6, 7, 9, 10, 12, 13, 14, 15, 16, 19, 20})
"""Departments whose products can have a flavor in their name."""
ACCENTED_SHARE = 0.03
"""Share of composed names whose brand (or flavor) has non-ASCII letters."""
SIZES: tuple[str, ...] = (
    "8 oz", "12 oz", "16 oz", "1 lb", "2 lb", "6 ct", "12 ct", "24 ct", "32 fl oz", "1 gal",
    "64 oz", "4 pk", "10 oz", "500 ml", "1 L",
)
