/**
 * The words the demo shop is made of: categories, product nouns, adjectives, brands, colours, materials and
 * review phrases in English, Indonesian and Simplified Chinese, plus a Simplified → Traditional table for
 * the characters used here (some listings and reviews in the demo are written in Traditional Chinese).
 * Brands and names are invented; any likeness to a real company or person is accidental.
 */

export type Text3 = { en: string; id: string; zh: string };

export type AttributeKind =
  | 'colour'
  | 'size'
  | 'shoeSize'
  | 'material'
  | 'storage'
  | 'volume'
  | 'weight'
  | 'denomination'
  | 'age'
  | 'edition';

export type SubcategoryVocab = {
  slug: string;
  name: Text3;
  nouns: readonly Text3[];
  /** Typical price range in rupiah. */
  price: readonly [number, number];
  attributes: readonly AttributeKind[];
  /** Share of the catalogue within its top category. */
  weight: number;
};

export type TopCategoryVocab = {
  slug: string;
  name: Text3;
  adjectives: readonly Text3[];
  brands: readonly string[];
  materials: readonly Text3[];
  subcategories: readonly SubcategoryVocab[];
  /** Share of the catalogue. */
  weight: number;
};

const t = (en: string, id: string, zh: string): Text3 => ({ en, id, zh });

export const TOP_CATEGORIES: readonly TopCategoryVocab[] = [
  {
    slug: 'electronics',
    name: t('Electronics', 'Elektronik', '电子产品'),
    weight: 16,
    adjectives: [
      t('Slim', 'Tipis', '超薄'),
      t('Compact', 'Ringkas', '小巧'),
      t('Premium', 'Premium', '高端'),
      t('Lightweight', 'Ringan', '轻便'),
      t('Waterproof', 'Tahan Air', '防水'),
      t('Portable', 'Portabel', '便携'),
    ],
    brands: ['Lumina', 'Voltra', 'Nusatek', 'Kirana', 'Orbitel', 'Pixelo'],
    materials: [
      t('Aluminium', 'Aluminium', '铝合金'),
      t('Silicone', 'Silikon', '硅胶'),
      t('Polycarbonate', 'Polikarbonat', '聚碳酸酯'),
    ],
    subcategories: [
      {
        slug: 'phones',
        name: t('Phones', 'Ponsel', '手机'),
        weight: 5,
        price: [79_000, 6_500_000],
        attributes: ['colour', 'storage'],
        nouns: [
          t('Smartphone', 'Ponsel Pintar', '智能手机'),
          t('Phone Case', 'Casing HP', '手机壳'),
          t('Screen Protector', 'Pelindung Layar', '屏幕保护膜'),
          t('Power Bank', 'Power Bank', '充电宝'),
          t('Fast Charger', 'Pengisi Daya Cepat', '快速充电器'),
        ],
      },
      {
        slug: 'laptops',
        name: t('Laptops & Accessories', 'Laptop & Aksesori', '笔记本电脑及配件'),
        weight: 3,
        price: [99_000, 14_000_000],
        attributes: ['colour', 'material'],
        nouns: [
          t('Laptop', 'Laptop', '笔记本电脑'),
          t('Laptop Stand', 'Dudukan Laptop', '笔记本支架'),
          t('Wireless Mouse', 'Mouse Nirkabel', '无线鼠标'),
          t('Mechanical Keyboard', 'Keyboard Mekanik', '机械键盘'),
        ],
      },
      {
        slug: 'audio',
        name: t('Audio', 'Audio', '音频设备'),
        weight: 4,
        price: [129_000, 3_200_000],
        attributes: ['colour'],
        nouns: [
          t('Wireless Earbuds', 'Earbuds Nirkabel', '无线耳机'),
          t('Headphones', 'Headphone', '头戴式耳机'),
          t('Bluetooth Speaker', 'Speaker Bluetooth', '蓝牙音箱'),
          t('Soundbar', 'Soundbar', '回音壁音响'),
        ],
      },
      {
        slug: 'wearables',
        name: t('Wearables', 'Perangkat Wearable', '可穿戴设备'),
        weight: 2,
        price: [249_000, 4_500_000],
        attributes: ['colour', 'size'],
        nouns: [
          t('Smartwatch', 'Jam Tangan Pintar', '智能手表'),
          t('Fitness Band', 'Gelang Kebugaran', '运动手环'),
        ],
      },
      {
        slug: 'smart-home',
        name: t('Smart Home', 'Rumah Pintar', '智能家居'),
        weight: 2,
        price: [69_000, 1_800_000],
        attributes: ['colour'],
        nouns: [
          t('Smart Bulb', 'Lampu Pintar', '智能灯泡'),
          t('Security Camera', 'Kamera Keamanan', '监控摄像头'),
          t('Wi-Fi Router', 'Router Wi-Fi', '无线路由器'),
          t('Smart Plug', 'Colokan Pintar', '智能插座'),
        ],
      },
    ],
  },
  {
    slug: 'fashion',
    name: t('Fashion', 'Fashion', '服饰'),
    weight: 20,
    adjectives: [
      t('Casual', 'Kasual', '休闲'),
      t('Classic', 'Klasik', '经典'),
      t('Oversized', 'Oversize', '宽松'),
      t('Elegant', 'Elegan', '优雅'),
      t('Everyday', 'Sehari-hari', '日常'),
      t('Breathable', 'Adem', '透气'),
    ],
    brands: ['Batik Sekar', 'Rumah Kain', 'Urbano', 'Larasati', 'Kanvas & Co'],
    materials: [
      t('Cotton', 'Katun', '棉'),
      t('Linen', 'Linen', '亚麻'),
      t('Leather', 'Kulit', '皮革'),
      t('Polyester', 'Poliester', '涤纶'),
    ],
    subcategories: [
      {
        slug: 'women',
        name: t('Women', 'Wanita', '女装'),
        weight: 4,
        price: [59_000, 650_000],
        attributes: ['colour', 'size', 'material'],
        nouns: [
          t('Batik Dress', 'Dress Batik', '蜡染连衣裙'),
          t('Blouse', 'Blus', '女士衬衫'),
          t('Hijab', 'Hijab', '头巾'),
          t('Pleated Skirt', 'Rok Plisket', '百褶裙'),
          t('Cardigan', 'Kardigan', '开衫'),
        ],
      },
      {
        slug: 'men',
        name: t('Men', 'Pria', '男装'),
        weight: 3,
        price: [69_000, 550_000],
        attributes: ['colour', 'size', 'material'],
        nouns: [
          t('Batik Shirt', 'Kemeja Batik', '蜡染衬衫'),
          t('Polo Shirt', 'Kaos Polo', 'Polo衫'),
          t('Chino Trousers', 'Celana Chino', '休闲裤'),
          t('Sarong', 'Sarung', '纱笼'),
          t('Hoodie', 'Hoodie', '连帽衫'),
        ],
      },
      {
        slug: 'shoes',
        name: t('Shoes', 'Sepatu', '鞋'),
        weight: 2,
        price: [89_000, 1_200_000],
        attributes: ['colour', 'shoeSize'],
        nouns: [
          t('Sneakers', 'Sepatu Sneakers', '运动鞋'),
          t('Sandals', 'Sandal', '凉鞋'),
          t('Loafers', 'Sepatu Loafer', '乐福鞋'),
          t('Running Shoes', 'Sepatu Lari', '跑步鞋'),
        ],
      },
      {
        slug: 'bags',
        name: t('Bags', 'Tas', '箱包'),
        weight: 2,
        price: [49_000, 900_000],
        attributes: ['colour', 'material'],
        nouns: [
          t('Backpack', 'Ransel', '双肩包'),
          t('Tote Bag', 'Tas Tote', '托特包'),
          t('Wallet', 'Dompet', '钱包'),
          t('Sling Bag', 'Tas Selempang', '斜挎包'),
        ],
      },
    ],
  },
  {
    slug: 'beauty',
    name: t('Beauty', 'Kecantikan', '美妆个护'),
    weight: 13,
    adjectives: [
      t('Brightening', 'Mencerahkan', '亮白'),
      t('Hydrating', 'Melembapkan', '补水'),
      t('Gentle', 'Lembut', '温和'),
      t('Natural', 'Alami', '天然'),
      t('Long-Lasting', 'Tahan Lama', '持久'),
      t('Halal', 'Halal', '清真'),
    ],
    brands: ['Glowra', 'Dewi Skin', 'Aroma Bali', 'Puspa', 'Seruni'],
    materials: [
      t('Aloe Vera', 'Lidah Buaya', '芦荟'),
      t('Niacinamide', 'Niacinamide', '烟酰胺'),
      t('Green Tea', 'Teh Hijau', '绿茶'),
    ],
    subcategories: [
      {
        slug: 'skincare',
        name: t('Skincare', 'Perawatan Kulit', '护肤'),
        weight: 4,
        price: [25_000, 450_000],
        attributes: ['volume'],
        nouns: [
          t('Facial Wash', 'Sabun Cuci Muka', '洗面奶'),
          t('Moisturiser', 'Pelembap', '保湿霜'),
          t('Serum', 'Serum', '精华液'),
          t('Sunscreen SPF 50', 'Tabir Surya SPF 50', '防晒霜 SPF50'),
          t('Toner', 'Toner', '爽肤水'),
        ],
      },
      {
        slug: 'makeup',
        name: t('Makeup', 'Makeup', '彩妆'),
        weight: 3,
        price: [29_000, 380_000],
        attributes: ['colour'],
        nouns: [
          t('Lip Cream', 'Lip Cream', '唇釉'),
          t('Cushion Foundation', 'Cushion Foundation', '气垫粉底'),
          t('Mascara', 'Maskara', '睫毛膏'),
          t('Eyeshadow Palette', 'Palet Eyeshadow', '眼影盘'),
        ],
      },
      {
        slug: 'haircare',
        name: t('Hair Care', 'Perawatan Rambut', '护发'),
        weight: 2,
        price: [19_000, 240_000],
        attributes: ['volume'],
        nouns: [
          t('Shampoo', 'Sampo', '洗发水'),
          t('Hair Mask', 'Masker Rambut', '发膜'),
          t('Hair Oil', 'Minyak Rambut', '护发精油'),
        ],
      },
      {
        slug: 'fragrance',
        name: t('Fragrance', 'Parfum', '香水'),
        weight: 1,
        price: [45_000, 900_000],
        attributes: ['volume'],
        nouns: [t('Eau de Parfum', 'Eau de Parfum', '香水'), t('Body Mist', 'Body Mist', '身体喷雾')],
      },
    ],
  },
  {
    slug: 'home',
    name: t('Home & Living', 'Rumah Tangga', '家居生活'),
    weight: 13,
    adjectives: [
      t('Minimalist', 'Minimalis', '简约'),
      t('Modern', 'Modern', '现代'),
      t('Durable', 'Awet', '耐用'),
      t('Multifunction', 'Serbaguna', '多功能'),
      t('Scandinavian', 'Skandinavia', '北欧风'),
    ],
    brands: ['Rumahku', 'Kayu Jati', 'Dapur Ceria', 'Nyaman', 'Teras'],
    materials: [
      t('Teak Wood', 'Kayu Jati', '柚木'),
      t('Rattan', 'Rotan', '藤'),
      t('Stainless Steel', 'Baja Tahan Karat', '不锈钢'),
      t('Bamboo', 'Bambu', '竹'),
    ],
    subcategories: [
      {
        slug: 'kitchen',
        name: t('Kitchen', 'Dapur', '厨房'),
        weight: 4,
        price: [39_000, 1_500_000],
        attributes: ['colour', 'material'],
        nouns: [
          t('Rice Cooker', 'Penanak Nasi', '电饭煲'),
          t('Non-Stick Wok', 'Wajan Anti Lengket', '不粘炒锅'),
          t('Knife Set', 'Set Pisau', '刀具套装'),
          t('Blender', 'Blender', '搅拌机'),
          t('Air Fryer', 'Air Fryer', '空气炸锅'),
        ],
      },
      {
        slug: 'furniture',
        name: t('Furniture', 'Furnitur', '家具'),
        weight: 2,
        price: [149_000, 3_500_000],
        attributes: ['colour', 'material'],
        nouns: [
          t('Bookshelf', 'Rak Buku', '书架'),
          t('Office Chair', 'Kursi Kantor', '办公椅'),
          t('Coffee Table', 'Meja Kopi', '茶几'),
          t('Shoe Rack', 'Rak Sepatu', '鞋架'),
        ],
      },
      {
        slug: 'bedding',
        name: t('Bedding', 'Perlengkapan Tidur', '床上用品'),
        weight: 2,
        price: [59_000, 1_900_000],
        attributes: ['colour', 'size'],
        nouns: [
          t('Bed Sheet Set', 'Set Sprei', '床单套装'),
          t('Pillow', 'Bantal', '枕头'),
          t('Blanket', 'Selimut', '毯子'),
          t('Mattress Topper', 'Topper Kasur', '床垫'),
        ],
      },
      {
        slug: 'decor',
        name: t('Decor', 'Dekorasi', '家居装饰'),
        weight: 2,
        price: [29_000, 450_000],
        attributes: ['colour', 'material'],
        nouns: [
          t('Wall Clock', 'Jam Dinding', '挂钟'),
          t('Scented Candle', 'Lilin Aroma', '香薰蜡烛'),
          t('Rattan Basket', 'Keranjang Rotan', '藤编收纳篮'),
          t('Table Lamp', 'Lampu Meja', '台灯'),
        ],
      },
    ],
  },
  {
    slug: 'groceries',
    name: t('Groceries', 'Kebutuhan Dapur', '食品杂货'),
    weight: 12,
    adjectives: [
      t('Original', 'Original', '原味'),
      t('Spicy', 'Pedas', '香辣'),
      t('Premium', 'Premium', '优质'),
      t('Organic', 'Organik', '有机'),
      t('Family Pack', 'Kemasan Keluarga', '家庭装'),
    ],
    brands: ['Sari Rasa', 'Warung Kita', 'Kopi Gunung', 'Tani Jaya', 'Dapur Nenek'],
    materials: [],
    subcategories: [
      {
        slug: 'snacks',
        name: t('Snacks', 'Camilan', '零食'),
        weight: 3,
        price: [8_000, 85_000],
        attributes: ['weight'],
        nouns: [
          t('Cassava Chips', 'Keripik Singkong', '木薯片'),
          t('Chocolate Wafers', 'Wafer Cokelat', '巧克力威化'),
          t('Roasted Peanuts', 'Kacang Panggang', '烤花生'),
          t('Shrimp Crackers', 'Kerupuk Udang', '虾片'),
        ],
      },
      {
        slug: 'beverages',
        name: t('Beverages', 'Minuman', '饮料'),
        weight: 3,
        price: [12_000, 180_000],
        attributes: ['weight'],
        nouns: [
          t('Ground Coffee', 'Kopi Bubuk', '研磨咖啡'),
          t('Jasmine Tea', 'Teh Melati', '茉莉花茶'),
          t('Instant Coffee', 'Kopi Instan', '速溶咖啡'),
          t('Coconut Water', 'Air Kelapa', '椰子水'),
        ],
      },
      {
        slug: 'staples',
        name: t('Pantry Staples', 'Bahan Pokok', '粮油调味'),
        weight: 3,
        price: [15_000, 160_000],
        attributes: ['weight'],
        nouns: [
          t('Jasmine Rice', 'Beras Wangi', '香米'),
          t('Cooking Oil', 'Minyak Goreng', '食用油'),
          t('Palm Sugar', 'Gula Aren', '椰糖'),
          t('Sweet Soy Sauce', 'Kecap Manis', '甜酱油'),
          t('Chilli Sambal', 'Sambal', '辣椒酱'),
        ],
      },
      {
        slug: 'instant-food',
        name: t('Instant Food', 'Makanan Instan', '方便食品'),
        weight: 2,
        price: [3_000, 95_000],
        attributes: ['weight'],
        nouns: [
          t('Instant Noodles', 'Mi Instan', '方便面'),
          t('Fried Noodles', 'Mi Goreng', '炒面'),
          t('Instant Porridge', 'Bubur Instan', '速食粥'),
        ],
      },
    ],
  },
  {
    slug: 'toys',
    name: t('Toys & Kids', 'Mainan & Anak', '玩具童趣'),
    weight: 8,
    adjectives: [
      t('Colourful', 'Warna-warni', '彩色'),
      t('Educational', 'Edukatif', '益智'),
      t('Safe', 'Aman', '安全'),
      t('Mini', 'Mini', '迷你'),
    ],
    brands: ['Ceria Kids', 'Pelangi Toys', 'Bocah Pintar', 'Taman Main'],
    materials: [t('Wood', 'Kayu', '木质'), t('Plastic', 'Plastik', '塑料')],
    subcategories: [
      {
        slug: 'building',
        name: t('Building Toys', 'Mainan Konstruksi', '拼搭玩具'),
        weight: 2,
        price: [39_000, 899_000],
        attributes: ['age'],
        nouns: [
          t('Building Blocks Set', 'Set Balok Susun', '积木套装'),
          t('Jigsaw Puzzle', 'Puzzle', '拼图'),
          t('Model Kit', 'Model Kit', '拼装模型'),
        ],
      },
      {
        slug: 'dolls',
        name: t('Dolls & Figures', 'Boneka & Figur', '娃娃与人偶'),
        weight: 2,
        price: [35_000, 650_000],
        attributes: ['age', 'colour'],
        nouns: [
          t('Plush Toy', 'Boneka', '毛绒玩具'),
          t('Fashion Doll', 'Boneka Fashion', '时尚娃娃'),
          t('Action Figure', 'Action Figure', '可动人偶'),
        ],
      },
      {
        slug: 'educational',
        name: t('Learning Toys', 'Mainan Edukasi', '早教玩具'),
        weight: 2,
        price: [25_000, 420_000],
        attributes: ['age'],
        nouns: [
          t('Wooden Abacus', 'Sempoa Kayu', '木制算盘'),
          t('Science Kit', 'Kit Sains', '科学实验套装'),
          t('Flash Cards', 'Kartu Belajar', '识字卡片'),
        ],
      },
      {
        slug: 'outdoor-play',
        name: t('Outdoor Play', 'Mainan Luar Ruang', '户外玩具'),
        weight: 1,
        price: [19_000, 1_100_000],
        attributes: ['age', 'colour'],
        nouns: [
          t('Kite', 'Layang-layang', '风筝'),
          t('Water Gun', 'Pistol Air', '水枪'),
          t('Kick Scooter', 'Skuter', '滑板车'),
        ],
      },
    ],
  },
  {
    slug: 'sports',
    name: t('Sports & Outdoors', 'Olahraga & Outdoor', '运动户外'),
    weight: 9,
    adjectives: [
      t('Professional', 'Profesional', '专业'),
      t('Lightweight', 'Ringan', '轻量'),
      t('Anti-Slip', 'Anti Selip', '防滑'),
      t('Training', 'Latihan', '训练'),
    ],
    brands: ['Smash Pro', 'Rajawali Sport', 'Jelajah', 'Atletika'],
    materials: [
      t('Carbon Fibre', 'Serat Karbon', '碳纤维'),
      t('Nylon', 'Nilon', '尼龙'),
      t('Aluminium', 'Aluminium', '铝合金'),
    ],
    subcategories: [
      {
        slug: 'badminton',
        name: t('Badminton', 'Bulu Tangkis', '羽毛球'),
        weight: 3,
        price: [45_000, 2_400_000],
        attributes: ['colour'],
        nouns: [
          t('Badminton Racket', 'Raket Bulu Tangkis', '羽毛球拍'),
          t('Shuttlecocks', 'Kok Bulu Tangkis', '羽毛球'),
          t('Badminton Shoes', 'Sepatu Bulu Tangkis', '羽毛球鞋'),
        ],
      },
      {
        slug: 'fitness',
        name: t('Fitness', 'Kebugaran', '健身'),
        weight: 3,
        price: [25_000, 1_500_000],
        attributes: ['colour', 'weight'],
        nouns: [
          t('Yoga Mat', 'Matras Yoga', '瑜伽垫'),
          t('Dumbbell Set', 'Set Dumbel', '哑铃套装'),
          t('Resistance Band', 'Resistance Band', '弹力带'),
          t('Jump Rope', 'Tali Skipping', '跳绳'),
        ],
      },
      {
        slug: 'cycling',
        name: t('Cycling', 'Bersepeda', '骑行'),
        weight: 2,
        price: [49_000, 1_200_000],
        attributes: ['colour', 'size'],
        nouns: [
          t('Bicycle Helmet', 'Helm Sepeda', '自行车头盔'),
          t('Bike Light', 'Lampu Sepeda', '自行车灯'),
          t('Cycling Jersey', 'Jersey Sepeda', '骑行服'),
        ],
      },
      {
        slug: 'outdoor',
        name: t('Camping & Hiking', 'Camping & Hiking', '露营徒步'),
        weight: 2,
        price: [39_000, 2_800_000],
        attributes: ['colour', 'material'],
        nouns: [
          t('Camping Tent', 'Tenda Camping', '露营帐篷'),
          t('Hiking Backpack', 'Tas Carrier', '登山包'),
          t('Water Bottle', 'Botol Minum', '运动水壶'),
        ],
      },
    ],
  },
  {
    slug: 'books',
    name: t('Books', 'Buku', '图书'),
    weight: 6,
    adjectives: [
      t('Bestselling', 'Terlaris', '畅销'),
      t('Illustrated', 'Bergambar', '插图版'),
      t('Bilingual', 'Dwibahasa', '双语'),
      t('Hardcover', 'Sampul Keras', '精装'),
    ],
    brands: ['Pustaka Lentera', 'Aksara Muda', 'Buku Kita', 'Penerbit Cakrawala'],
    materials: [],
    subcategories: [
      {
        slug: 'fiction',
        name: t('Fiction', 'Fiksi', '小说文学'),
        weight: 3,
        price: [45_000, 250_000],
        attributes: ['edition'],
        nouns: [
          t('Novel', 'Novel', '小说'),
          t('Short Story Collection', 'Kumpulan Cerpen', '短篇小说集'),
          t('Graphic Novel', 'Novel Grafis', '图像小说'),
        ],
      },
      {
        slug: 'children',
        name: t("Children's Books", 'Buku Anak', '童书'),
        weight: 2,
        price: [29_000, 180_000],
        attributes: ['edition', 'age'],
        nouns: [
          t('Picture Book', 'Buku Bergambar', '绘本'),
          t('Activity Book', 'Buku Aktivitas', '活动手册'),
          t('Bedtime Stories', 'Dongeng Sebelum Tidur', '睡前故事'),
        ],
      },
      {
        slug: 'cooking',
        name: t('Cooking', 'Masakan', '烹饪美食'),
        weight: 1,
        price: [65_000, 320_000],
        attributes: ['edition'],
        nouns: [
          t('Indonesian Cookbook', 'Buku Resep Nusantara', '印尼菜谱'),
          t('Baking Guide', 'Panduan Membuat Kue', '烘焙指南'),
        ],
      },
      {
        slug: 'self-help',
        name: t('Self-Help', 'Pengembangan Diri', '励志成长'),
        weight: 1,
        price: [55_000, 220_000],
        attributes: ['edition'],
        nouns: [
          t('Productivity Guide', 'Panduan Produktivitas', '效率指南'),
          t('Personal Finance Book', 'Buku Keuangan Pribadi', '个人理财书'),
        ],
      },
    ],
  },
  {
    slug: 'gift-cards',
    name: t('Gift Cards & Vouchers', 'Kartu Hadiah & Voucher', '礼品卡'),
    weight: 3,
    adjectives: [t('Digital', 'Digital', '电子')],
    brands: ['Toko Demo', 'Main Yuk', 'Tonton'],
    materials: [],
    subcategories: [
      {
        slug: 'shopping',
        name: t('Shopping Gift Cards', 'Kartu Hadiah Belanja', '购物卡'),
        weight: 1,
        price: [50_000, 1_000_000],
        attributes: ['denomination'],
        nouns: [t('Gift Card', 'Kartu Hadiah', '购物礼品卡')],
      },
      {
        slug: 'games',
        name: t('Game Vouchers', 'Voucher Game', '游戏点卡'),
        weight: 1,
        price: [10_000, 500_000],
        attributes: ['denomination'],
        nouns: [t('Game Voucher', 'Voucher Game', '游戏点卡')],
      },
      {
        slug: 'streaming',
        name: t('Streaming', 'Streaming', '影音会员'),
        weight: 1,
        price: [39_000, 300_000],
        attributes: ['denomination'],
        nouns: [t('Streaming Voucher', 'Voucher Streaming', '流媒体会员卡')],
      },
      {
        slug: 'mobile',
        name: t('Mobile Top-up', 'Pulsa & Data', '话费充值'),
        weight: 1,
        price: [10_000, 200_000],
        attributes: ['denomination'],
        nouns: [t('Mobile Top-up Voucher', 'Voucher Pulsa', '话费充值卡')],
      },
    ],
  },
];

export const COLOURS: readonly Text3[] = [
  t('Black', 'Hitam', '黑色'),
  t('White', 'Putih', '白色'),
  t('Navy', 'Biru Dongker', '藏青色'),
  t('Red', 'Merah', '红色'),
  t('Green', 'Hijau', '绿色'),
  t('Beige', 'Krem', '米色'),
  t('Pink', 'Merah Muda', '粉色'),
  t('Grey', 'Abu-abu', '灰色'),
  t('Maroon', 'Marun', '酒红色'),
  t('Sage', 'Hijau Sage', '鼠尾草绿'),
];

export const SIZES = ['S', 'M', 'L', 'XL', 'XXL'] as const;

/** Denominations of vouchers, in rupiah. */
export const DENOMINATIONS = [
  10_000, 25_000, 50_000, 100_000, 150_000, 200_000, 300_000, 500_000, 1_000_000,
] as const;

export type ReviewTemplates = {
  positive: readonly string[];
  neutral: readonly string[];
  negative: readonly string[];
};

/** `{noun}` is the product noun in the reviewer's language; `{aspect}` an aspect sentence of the same sentiment. */
export const REVIEW_TEMPLATES: Record<'en' | 'id' | 'zh', ReviewTemplates> = {
  en: {
    positive: [
      'Really happy with this {noun}. {aspect} Would buy again.',
      'Great {noun}, arrived fast and well packed. {aspect}',
      'Exactly as described. {aspect}',
      'Five stars, the {noun} is worth every rupiah. {aspect}',
    ],
    neutral: [
      'The {noun} is okay for the price. {aspect}',
      'Decent, but delivery took a while. {aspect}',
      'Not bad, it does the job. {aspect}',
    ],
    negative: [
      'Disappointed with this {noun}. {aspect}',
      'Stopped working after a week, asking for a refund. {aspect}',
      'Not as described. {aspect} Would not recommend.',
    ],
  },
  id: {
    positive: [
      'Mantap, {noun} sesuai deskripsi. {aspect}',
      'Barang bagus, pengiriman cepat, packing rapi. {aspect}',
      'Puas banget sama {noun} ini, recommended! {aspect}',
      'Kualitas oke, harga terjangkau. {aspect} Bakal beli lagi.',
    ],
    neutral: [
      '{noun} lumayan untuk harganya. {aspect}',
      'Cukup oke, tapi pengiriman agak lama. {aspect}',
      'Standar, sesuai harga. {aspect}',
    ],
    negative: [
      'Kecewa, {noun} tidak sesuai gambar. {aspect}',
      'Baru seminggu sudah rusak, minta retur. {aspect}',
      'Kualitas jelek, tidak recommended. {aspect}',
    ],
  },
  zh: {
    positive: [
      '这款{noun}非常好用，{aspect}',
      '质量很好，物流很快，包装也很仔细。{aspect}',
      '非常满意，会再回购！{aspect}',
      '性价比很高，推荐购买。{aspect}',
    ],
    neutral: ['{noun}还行吧，{aspect}', '一般般，发货有点慢。{aspect}', '中规中矩，对得起这个价格。{aspect}'],
    negative: [
      '很失望，{noun}和描述不符。{aspect}',
      '用了一个星期就坏了，申请退货。{aspect}',
      '质量太差了，不推荐。{aspect}',
    ],
  },
};

export const REVIEW_ASPECTS: Record<'en' | 'id' | 'zh', ReviewTemplates> = {
  en: {
    positive: [
      'Quality feels premium.',
      'Great value for the price.',
      'The colour matches the photos.',
      'The seller replied quickly.',
    ],
    neutral: ['Nothing special.', 'Packaging could be better.', 'Average quality.'],
    negative: [
      'The material feels cheap.',
      'The colour is different from the photos.',
      'The seller never replied.',
    ],
  },
  id: {
    positive: ['Kualitasnya bagus.', 'Harganya worth it.', 'Warnanya sesuai foto.', 'Penjual responsif.'],
    neutral: ['Biasa saja.', 'Packing bisa lebih baik.', 'Kualitas standar.'],
    negative: ['Bahannya tipis.', 'Warnanya beda dengan foto.', 'Penjual tidak membalas chat.'],
  },
  zh: {
    positive: ['做工很精致。', '颜色和图片一样。', '卖家服务态度很好。', '物超所值。'],
    neutral: ['没什么特别的。', '包装可以更好。', '质量一般。'],
    negative: ['材质很廉价。', '颜色和图片不一样。', '客服一直不回复。'],
  },
};

export const DESCRIPTION_TEMPLATES = {
  en: {
    material: 'Made from {material}.',
    colour: 'Available in {colour}.',
    shipping: 'Ships from Jakarta within 1–2 business days.',
  },
  id: {
    material: 'Terbuat dari {material}.',
    colour: 'Tersedia warna {colour}.',
    shipping: 'Dikirim dari Jakarta dalam 1–2 hari kerja.',
  },
  zh: {
    material: '采用{material}材质。',
    colour: '{colour}款。',
    shipping: '雅加达仓库发货，1–2个工作日内发出。',
  },
} as const;

/** Searches for things the shop does not sell: they must come back empty. */
export const UNSOLD_QUERIES: Record<'en' | 'id' | 'zh', readonly string[]> = {
  en: ['flying car', 'dinosaur egg', 'moon rock', 'time machine'],
  id: ['mobil terbang', 'telur dinosaurus', 'batu bulan', 'mesin waktu'],
  zh: ['飞行汽车', '恐龙蛋', '月球岩石', '时光机'],
};

export const FIRST_NAMES: Record<'en' | 'id' | 'zh', readonly string[]> = {
  en: ['Alex', 'Jamie', 'Sam', 'Taylor', 'Jordan', 'Morgan', 'Casey', 'Riley', 'Chris', 'Robin'],
  id: ['Budi', 'Siti', 'Agus', 'Dewi', 'Rina', 'Andi', 'Putri', 'Wahyu', 'Ayu', 'Rizky', 'Intan', 'Fajar'],
  zh: ['伟', '芳', '敏', '静', '磊', '婷', '杰', '丽', '强', '娜'],
};

export const LAST_NAMES: Record<'en' | 'id' | 'zh', readonly string[]> = {
  en: ['Smith', 'Lee', 'Brown', 'Walker', 'Hughes', 'Clark', 'Evans', 'Turner'],
  id: [
    'Santoso',
    'Rahayu',
    'Wijaya',
    'Kusuma',
    'Hidayat',
    'Saputra',
    'Lestari',
    'Pratama',
    'Nugroho',
    'Setiawan',
  ],
  zh: ['王', '李', '张', '刘', '陈', '林', '黄', '吴'],
};

export const CITIES: readonly (readonly [string, string])[] = [
  ['Jakarta', '10110'],
  ['Surabaya', '60111'],
  ['Bandung', '40111'],
  ['Medan', '20111'],
  ['Semarang', '50111'],
  ['Makassar', '90111'],
  ['Denpasar', '80111'],
  ['Yogyakarta', '55111'],
];

export const STREETS: readonly string[] = [
  'Jl. Contoh',
  'Jl. Percobaan',
  'Jl. Fiktif',
  'Jl. Demo Raya',
  'Gg. Uji Coba',
];

/** Phrases whose Traditional form is not the character-by-character mapping. Applied first. */
const HANT_PHRASES: readonly (readonly [string, string])[] = [
  ['方便面', '方便麵'],
  ['炒面', '炒麵'],
  ['洗发', '洗髮'],
  ['发膜', '髮膜'],
  ['护发', '護髮'],
  ['手表', '手錶'],
  ['茶几', '茶几'],
  ['木制', '木製'],
  ['游戏', '遊戲'],
  ['硅胶', '矽膠'],
  ['宽松', '寬鬆'],
  ['回复', '回覆'],
  ['12只', '12隻'],
];

const HANT_CHARS =
  '机機壳殼护護电電宝寶记記脑腦无無线線标標键鍵盘盤胆膽头頭蓝藍响響运運动動环環灯燈监監摄攝连連衬襯开開蜡蠟闲閒裤褲纱紗笼籠凉涼乐樂双雙钱錢湿濕华華晒曬肤膚气氣垫墊发發体體喷噴雾霧补補温溫饭飯锅鍋装裝搅攪书書办辦单單挂掛钟鐘烛燭编編纳納篮籃简簡约約现現欧歐风風虾蝦酱醬优優质質积積图圖绒絨时時学學实實验驗识識筝箏枪槍车車哑啞铃鈴弹彈带帶绳繩骑騎营營帐帳壶壺专專业業轻輕训訓练練说說绘繪册冊谱譜个個财財畅暢销銷语語购購礼禮戏戲点點会會员員话話费費红紅绿綠亚亞涤滌纶綸锈鏽钢鋼铝鋁携攜经經细細满滿荐薦买買卖賣态態务務没沒别別规規对對价價坏壞请請货貨这這还還样樣颜顏采採仓倉库庫达達内內产產设設备備视視频頻饮飲杂雜调調饪飪励勵长長户戶彩彩妆妝类類饰飾码碼执執尺尺兴興聚聚碳碳纤纖维維芦蘆荟薈烟煙酰醯绿綠妆妝厨廚';

const HANT_MAP: ReadonlyMap<string, string> = (() => {
  const m = new Map<string, string>();
  const chars = Array.from(HANT_CHARS);
  for (let i = 0; i + 1 < chars.length; i += 2) {
    const from = chars[i];
    const to = chars[i + 1];
    if (from !== undefined && to !== undefined) m.set(from, to);
  }
  return m;
})();

/** Simplified → Traditional for the vocabulary above (not a general converter). */
export function toTraditional(text: string): string {
  let out = text;
  for (const [from, to] of HANT_PHRASES) out = out.replaceAll(from, to);
  let result = '';
  for (const ch of out) result += HANT_MAP.get(ch) ?? ch;
  return result;
}
