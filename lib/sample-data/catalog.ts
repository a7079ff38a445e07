/**
 * Fixed vocabularies of the sample data: the allowed categories (they must match the dbt
 * seeds allowed_categories.csv and allowed_expense_categories.csv), regions, agencies,
 * vendors and the words products and expenses are described with. All names are
 * invented except the government agencies.
 */

export const CATEGORIES = [
  "beverages",
  "snacks",
  "personal_care",
  "household",
  "dairy",
  "bakery",
  "produce",
  "frozen",
  "canned_goods",
  "condiments",
] as const;
export type Category = (typeof CATEGORIES)[number];

/** Share of transactions per category on an ordinary day (sums to 1). */
export const CATEGORY_SHARES: Readonly<Record<Category, number>> = {
  beverages: 0.18,
  snacks: 0.16,
  personal_care: 0.1,
  household: 0.09,
  dairy: 0.09,
  bakery: 0.08,
  produce: 0.09,
  frozen: 0.05,
  canned_goods: 0.09,
  condiments: 0.07,
};

/** Categories that are not in the allowed list (for unknown_category rows). */
export const UNKNOWN_CATEGORIES = [
  "electronics",
  "toys",
  "automotive",
  "pet_supplies",
  "apparel",
  "lottery",
] as const;

export const REGIONS = ["NCR", "Luzon", "Visayas", "Mindanao"] as const;
export type Region = (typeof REGIONS)[number];

/** One store per city, 20 in all. */
export const STORE_CITIES: readonly { city: string; region: Region }[] = [
  { city: "Quezon City", region: "NCR" },
  { city: "Makati", region: "NCR" },
  { city: "Pasig", region: "NCR" },
  { city: "Manila", region: "NCR" },
  { city: "Taguig", region: "NCR" },
  { city: "Caloocan", region: "NCR" },
  { city: "Parañaque", region: "NCR" },
  { city: "Baguio", region: "Luzon" },
  { city: "San Fernando", region: "Luzon" },
  { city: "Batangas City", region: "Luzon" },
  { city: "Lucena", region: "Luzon" },
  { city: "Dagupan", region: "Luzon" },
  { city: "Cebu City", region: "Visayas" },
  { city: "Iloilo City", region: "Visayas" },
  { city: "Bacolod", region: "Visayas" },
  { city: "Tacloban", region: "Visayas" },
  { city: "Davao City", region: "Mindanao" },
  { city: "Cagayan de Oro", region: "Mindanao" },
  { city: "General Santos", region: "Mindanao" },
  { city: "Zamboanga City", region: "Mindanao" },
];

export const PAYMENT_METHODS = ["cash", "card", "gcash", "maya"] as const;
export const PAYMENT_SHARES = [0.45, 0.18, 0.25, 0.12] as const;

export const CUSTOMER_COUNT = 5000;
export const PRODUCT_COUNT = 200;

/** Invented brands, four per category. */
export const BRANDS: Readonly<Record<Category, readonly string[]>> = {
  beverages: ["Bukal", "Tropika", "Kapeng Bayan", "Lamig"],
  snacks: ["Sitsiria", "Malutong", "Kropek King", "Pinoy Crunch"],
  personal_care: ["Linis", "Ganda Naturals", "Bango", "Kalinga"],
  household: ["Kislap", "Bahay Pro", "Puting Bula", "Ayos"],
  dairy: ["Gatas Gold", "Kalabaw Farms", "Creamy Isla", "Sariwa"],
  bakery: ["Pandayan", "Panaderia Rosa", "Mainit", "Tinapay Co."],
  produce: ["Bukid Fresh", "Ani", "Luntian", "Palengke Direct"],
  frozen: ["Yelo", "Masarap Frozen", "Polar Isla", "Lamig Foods"],
  canned_goods: ["Lata Star", "Bayani", "Sardinas Uno", "Pacific Can"],
  condiments: ["Sawsawan", "Asim Kilig", "Toyo Master", "Patis Gold"],
};

/** Product descriptors and pack sizes per category. */
export const PRODUCT_WORDS: Readonly<
  Record<Category, { items: readonly string[]; sizes: readonly string[] }>
> = {
  beverages: {
    items: [
      "Iced Tea",
      "Cola",
      "Calamansi Juice",
      "3-in-1 Coffee",
      "Mango Nectar",
      "Bottled Water",
      "Energy Drink",
      "Chocolate Drink",
    ],
    sizes: ["250 ml", "330 ml", "500 ml", "1 L", "1.5 L", "10 x 20 g"],
  },
  snacks: {
    items: [
      "Corn Chips",
      "Banana Chips",
      "Shrimp Crackers",
      "Peanuts",
      "Cheese Rings",
      "Chicharon",
      "Potato Crisps",
      "Polvoron",
    ],
    sizes: ["25 g", "60 g", "100 g", "150 g", "200 g"],
  },
  personal_care: {
    items: [
      "Shampoo",
      "Bath Soap",
      "Toothpaste",
      "Deodorant",
      "Lotion",
      "Conditioner",
      "Facial Wash",
      "Cologne",
    ],
    sizes: ["12 ml", "90 g", "180 ml", "340 ml", "400 ml"],
  },
  household: {
    items: [
      "Dishwashing Liquid",
      "Laundry Powder",
      "Fabric Conditioner",
      "Bleach",
      "Floor Wax",
      "Trash Bags",
      "Tissue Roll",
      "Insect Spray",
    ],
    sizes: ["250 ml", "500 g", "1 L", "2 kg", "10 pcs", "12 rolls"],
  },
  dairy: {
    items: [
      "Fresh Milk",
      "Evaporated Milk",
      "Condensed Milk",
      "Cheese",
      "Yogurt",
      "Butter",
      "Kesong Puti",
      "Powdered Milk",
    ],
    sizes: ["125 g", "200 g", "370 ml", "1 L", "300 g"],
  },
  bakery: {
    items: [
      "Pandesal",
      "Ensaymada",
      "Loaf Bread",
      "Spanish Bread",
      "Monay",
      "Ube Cake",
      "Hopia",
      "Cheese Bread",
    ],
    sizes: ["1 pc", "6 pcs", "10 pcs", "450 g", "600 g"],
  },
  produce: {
    items: [
      "Saba Banana",
      "Calamansi",
      "Tomatoes",
      "Red Onions",
      "Garlic",
      "Kangkong",
      "Carabao Mango",
      "Sayote",
    ],
    sizes: ["250 g", "500 g", "1 kg", "1 bundle"],
  },
  frozen: {
    items: [
      "Longganisa",
      "Tocino",
      "Hotdogs",
      "Chicken Nuggets",
      "Siomai",
      "Lumpia",
      "Ice Cream",
      "Fish Balls",
    ],
    sizes: ["250 g", "500 g", "1 kg", "1.5 L"],
  },
  canned_goods: {
    items: [
      "Sardines",
      "Corned Beef",
      "Tuna Flakes",
      "Meat Loaf",
      "Pork and Beans",
      "Liver Spread",
      "Fruit Cocktail",
      "Coconut Milk",
    ],
    sizes: ["150 g", "155 g", "260 g", "400 ml", "850 g"],
  },
  condiments: {
    items: [
      "Soy Sauce",
      "Cane Vinegar",
      "Fish Sauce",
      "Banana Ketchup",
      "Oyster Sauce",
      "Bagoong",
      "Gravy Mix",
      "Iodized Salt",
    ],
    sizes: ["100 ml", "200 ml", "350 ml", "1 L", "1 kg"],
  },
};

/** Typical shelf price range per category, in pesos. */
export const PRICE_RANGES: Readonly<Record<Category, readonly [number, number]>> = {
  beverages: [15, 120],
  snacks: [8, 95],
  personal_care: [35, 350],
  household: [25, 420],
  dairy: [20, 260],
  bakery: [10, 150],
  produce: [20, 220],
  frozen: [60, 480],
  canned_goods: [22, 160],
  condiments: [12, 120],
};

export const EXPENSE_CATEGORIES = [
  "travel",
  "meals",
  "supplies",
  "equipment",
  "professional_services",
  "utilities",
  "training",
  "communications",
] as const;
export type ExpenseCategory = (typeof EXPENSE_CATEGORIES)[number];

export const UNKNOWN_EXPENSE_CATEGORIES = [
  "entertainment",
  "gifts",
  "miscellaneous",
  "donations",
  "luxury_lodging",
] as const;

export const AGENCIES = [
  "Department of Finance",
  "Department of Budget and Management",
  "Department of Health",
  "Department of Education",
  "Department of Public Works and Highways",
  "Department of Information and Communications Technology",
  "Department of Trade and Industry",
  "Commission on Audit",
] as const;

export const EMPLOYEES_PER_AGENCY = 20;

/** Invented vendors per expense category. */
export const VENDORS: Readonly<Record<ExpenseCategory, readonly string[]>> = {
  travel: [
    "Pacific Isles Air",
    "Visayan Ferries Inc.",
    "Sunrise Travel & Tours",
    "Metro Manila Transport Co.",
  ],
  meals: ["Kusina ni Niño Catering", "Lutong Bahay Food Services", "Aling Rosa's Eatery"],
  supplies: ["Quiapo Office Supplies", "Bayanihan Paper Corp.", "Escolta Stationers"],
  equipment: ["Makati Computer Center", "Cebu Tech Depot", "Mindanao Industrial Equipment"],
  professional_services: ["Reyes & Santos Consulting", "Dela Cruz Audit Partners", "Luzon Legal Associates"],
  utilities: ["Metro Power Distribution", "Capital Water Services", "Island Electric Cooperative"],
  training: ["Civil Service Learning Institute", "Asian Governance Academy", "Data Skills PH"],
  communications: ["Archipelago Telecom", "Bayan Mobile", "Pinoy Express Courier"],
};

export const EXPENSE_PURPOSES = [
  "the budget hearing",
  "the regional audit",
  "the procurement review",
  "the systems rollout",
  "a stakeholder consultation",
  "quarterly planning",
  "the disaster-response drill",
  "the provincial field visit",
] as const;

export const EXPENSE_DESCRIPTIONS: Readonly<Record<ExpenseCategory, readonly string[]>> = {
  travel: [
    "Round-trip airfare for {purpose}",
    "Ferry and land transport for {purpose}",
    "Hotel stay (3 nights) for {purpose}",
  ],
  meals: [
    "Working lunch for {purpose}",
    "Snacks and meals during {purpose}",
    "Representation dinner after {purpose}",
  ],
  supplies: ["Bond paper and toner for {purpose}", "Office supplies restock before {purpose}"],
  equipment: [
    "Laptop purchase for {purpose}",
    "Projector and screen for {purpose}",
    "Network switch replacement for {purpose}",
  ],
  professional_services: [
    "Consultancy fee for {purpose}",
    "External audit support for {purpose}",
    "Legal review for {purpose}",
  ],
  utilities: [
    "Electricity bill (field office) during {purpose}",
    "Water bill (regional office) during {purpose}",
  ],
  training: ["Training fee for {purpose}", "Seminar registration related to {purpose}"],
  communications: [
    "Mobile load and data for {purpose}",
    "Courier of documents for {purpose}",
    "Internet subscription for {purpose}",
  ],
};

/** Spelled-out numbers for wrong_type rows. */
export const NUMBER_WORDS = [
  "ninety",
  "one hundred",
  "twelve pesos",
  "two",
  "five thousand",
  "seventy-five",
] as const;
